"""The vault at rest: one SQLCipher 4 database keyed from the passphrase with Argon2id."""

from vault.store.files import VaultPaths, default_home, read_header
from vault.store.kdf import DEFAULT_KDF, KdfParams
from vault.store.vault import Vault

__all__ = ["DEFAULT_KDF", "KdfParams", "Vault", "VaultPaths", "default_home", "read_header"]
