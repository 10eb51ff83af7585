from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parents[2] / "vault" / "protocol" / "examples" / "manifest.json"
ORIGIN = "https://shop.example"


@pytest.fixture
def profile(run_vault) -> None:
    """A vault (fastest Argon2id the product accepts) with enough profile for the example shop."""
    assert run_vault("init", "--kdf-time", "2", "--kdf-memory-mib", "19").code == 0
    for name, value in (
        ("birthdate", "1990-05-17"),
        ("country", "NL"),
        ("sizes.shoe", "42"),
        ("postal_code", "1017 CT"),
    ):
        assert run_vault("profile", "set", name, value).code == 0


@pytest.fixture
def present(run_vault):
    """`vault present` against the example shop's manifest; extra arguments are appended."""

    def run(
        nonce: str,
        *extra: str,
        purpose: str = "recommendations",
        audience: str = ORIGIN,
        manifest: Path = EXAMPLE,
    ):
        return run_vault(
            "present",
            "--manifest",
            str(manifest),
            "--purpose",
            purpose,
            "--audience",
            audience,
            "--nonce",
            nonce,
            *extra,
        )

    return run
