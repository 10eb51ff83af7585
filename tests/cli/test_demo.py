import json
from pathlib import Path


def test_demo_makes_a_throwaway_vault_and_cleans_up(run_vault) -> None:
    result = run_vault("demo", "--json", passphrase=None)
    assert result.code == 0, result.err
    shown = json.loads(result.out)
    assert shown["profile"]["birthdate"] == "1990-12-10"
    assert shown["profile"]["languages"] == ["en-GB", "nl"]
    assert shown["vault"] is None

    kept = json.loads(run_vault("demo", "--json", "--keep", passphrase=None).out)
    home = Path(kept["vault"])
    assert (home / "vault.db").exists()
