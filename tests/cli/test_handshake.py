"""`vault present` and `vault verify`: the handshake from a developer's shell, with real processes."""

import json
from pathlib import Path

import pytest

from tests.cli.conftest import EXAMPLE, ORIGIN
from vault.site import make_nonce


def verify(run_vault, token: str, nonce: str, *extra: str, stdin: str | None = None):
    return run_vault(
        "verify",
        token,
        "--manifest",
        str(EXAMPLE),
        "--audience",
        ORIGIN,
        "--nonce",
        nonce,
        *extra,
        stdin=stdin,
        passphrase=None,
    )


def test_present_then_verify(run_vault, profile, present) -> None:
    nonce = make_nonce()
    issued = present(nonce, "--json", "--decide", "allow")
    assert issued.code == 0, issued.err
    body = json.loads(issued.out)
    assert body["outcome"] == "granted"
    # Optional interests are missing from the profile: left out, and said so.
    assert body["claims"] == {"age_over_18": True, "location.country": "NL", "sizes.shoe": 42}
    assert body["dropped"] == {"interests": "your profile has no interests (needed for interests)"}
    result = verify(run_vault, body["token"], nonce, "--json")
    assert result.code == 0, result.err
    verified = json.loads(result.out)
    assert (
        verified["valid"] is True and verified["claims"] == body["claims"] and verified["jti"] == body["jti"]
    )
    # The raw profile never appears in the token: only the derived claims.
    assert "1990" not in result.out and "1017" not in result.out
    human = verify(run_vault, "-", nonce, stdin=body["token"] + "\n")
    assert human.code == 0 and "age_over_18 = yes" in human.out
    assert "kept for 30 days" in human.out and "P30D" not in human.out


def test_present_prints_just_the_token(run_vault, profile, present) -> None:
    result = present(make_nonce(), "--claims", "age_over_18,location.country", "--decide", "allow")
    assert result.code == 0, result.err
    assert result.out.count(".") == 2 and len(result.out.split()) == 1


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (
            lambda token, nonce: (token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"), nonce),
            "bad_signature",
        ),
        (lambda token, nonce: (token, make_nonce()), "wrong_nonce"),
        (lambda token, nonce: ("not.a.token", nonce), "malformed"),
    ],
)
def test_verify_refuses_with_the_reason_and_exit_1(run_vault, profile, present, mutate, reason: str) -> None:
    nonce = make_nonce()
    token = present(nonce, "--decide", "allow").out.strip()
    bad_token, bad_nonce = mutate(token, nonce)
    result = verify(run_vault, bad_token, bad_nonce, "--json")
    assert result.code == 1
    assert json.loads(result.out) == {"valid": False, "reason": reason}
    assert f"Error: the presentation is invalid: {reason}" in verify(run_vault, bad_token, bad_nonce).err


def test_verify_usage_errors_exit_2(run_vault, tmp_path: Path) -> None:
    result = run_vault(
        "verify",
        "x.y.z",
        "--manifest",
        str(EXAMPLE),
        "--audience",
        "https://other.example",
        "--nonce",
        make_nonce(),
        passphrase=None,
    )
    assert result.code == 2 and "not the manifest's origin" in result.err
    assert run_vault("verify", "x.y.z", "--manifest", str(EXAMPLE), passphrase=None).code == 2


def test_present_refusals(run_vault, profile, present, tmp_path: Path) -> None:
    nonce = make_nonce()
    result = present(nonce, "--claims", "sizes.shoe")
    assert result.code == 1 and "requires age_over_18, location.country" in result.err
    result = present(nonce, "--claims", "age_over_18,location.country,email")
    assert result.code == 1 and "does not declare email" in result.err
    result = present(nonce, purpose="nope")
    assert result.code == 1 and "no purpose 'nope'" in result.err
    result = present(nonce, audience="https://evil.example")
    assert result.code == 1 and "wrong_origin" in result.err
    result = present("short")
    assert result.code == 1 and "nonce must be" in result.err
    broken = tmp_path / "broken.json"
    broken.write_text(EXAMPLE.read_text().replace('"origin"', '"origin", "origin"', 1))
    result = present(nonce, manifest=broken)
    assert result.code == 1 and "is not valid" in result.err
    # Consent is needed and nobody can be asked: refused, nothing signed.
    result = present(nonce)
    assert result.code == 1 and "--decide" in result.err
    assert run_vault("profile", "unset", "country").code == 0
    result = present(nonce, "--decide", "allow")
    assert result.code == 1 and "your profile has no country" in result.err


def test_present_remembers_and_deny(run_vault, profile, present) -> None:
    assert present(make_nonce(), "--decide", "allow", "--remember").code == 0
    again = json.loads(present(make_nonce(), "--json").out)  # no --decide: remembered
    assert again["outcome"] == "granted"
    ledger = json.loads(run_vault("ledger", "--json").out)
    assert [e["kind"] for e in ledger].count("disclosure") == 2
    denied = present(
        make_nonce(),
        "--claims",
        "age_over_18,location.country,interests",
        "--decide",
        "deny",
        "--json",
    )
    # interests is not in the profile, so it is dropped; the rest is remembered: nothing to ask, so no deny.
    assert json.loads(denied.out)["outcome"] == "granted"
