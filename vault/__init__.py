"""Personal data vault: your profile stays on your machine; sites get signed, purpose-scoped claims."""

__version__ = "0.1.0"
