"""Importing this puts the repository's root on sys.path, so that a script run as `scripts/x.py` can use
test support: tests/example.py (the example shop, whose private keys stay out of the installed package)
and tests/issuing.py (signing without a consent step)."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
