"""Who may launch the native host: our extension, identified by its fixed key. Standard library only.

The key is public (it is in extension/manifest.json), so anyone can load an unpacked copy with the same id.
That is why the daemon also requires pairing: the id says "our code, probably"; pairing says "the
instance this user approved".
"""

import base64
import hashlib

HOST_NAME = "org.personal_vault"
# base64 DER SubjectPublicKeyInfo of an RSA-2048 key; extension/manifest.json "key" holds the same string.
EXTENSION_KEY = (
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA0p7kAPhhQF8b4SkNBdfcVIol+kceB8lcvkC12twMlet204CI029D+G9+erzx"
    "Yr5s6eIHoGZdHbK5Bfx8EkwGNWDq/3nBye+ySBdJyW7QlHeGlNyvKV/pO8wCpqy1eYEA6MAN3ssLpq01ilr0lFsHyD/pr63QN0H9Oo"
    "OQ9DizifOpklnMBz7S0KXNRN8hlnqbi1xQQwsPran2h9vVdo7oMUOu88SRfeL1iYJzjkKYITv9MyOltiRubfHW8xWMEwPFklEnTM1+"
    "6jEvbObcD+sgzd/mBbRg23l0GlBJqD0yUFyXchvwlUFtolB19D6h4Jfkhhx7UDXn/KtfZ4+UXlvdwwIDAQAB"
)
GECKO_ID = "personal-vault@personal-vault.org"


def extension_id(key_b64: str = EXTENSION_KEY) -> str:
    """Chromium's id for an extension key: SHA-256 of the DER, first 32 hex digits mapped 0-f to a-p."""
    digest = hashlib.sha256(base64.b64decode(key_b64)).hexdigest()[:32]
    return "".join(chr(ord("a") + int(c, 16)) for c in digest)


EXTENSION_ID = extension_id()
assert EXTENSION_ID == "pjbhmhlladnfniibcoimgbjjlickaihm"  # a typo in the key must not ship
