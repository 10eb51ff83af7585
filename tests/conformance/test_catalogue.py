"""Every reason has a conformance case (or says why none can exist), and SPEC.md lists the same cases with
the same reasons as the code plays."""

from __future__ import annotations

import re
from pathlib import Path

from vault.conformance import CASES, NOT_TESTABLE
from vault.conformance.cases import PRESENTATION_CASES, TOKENS
from vault.conformance.catalogue import VAULT_REFUSES, covered_reasons
from vault.protocol.errors import Reason

SPEC = (Path(__file__).resolve().parents[2] / "vault" / "protocol" / "SPEC.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    return SPEC.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def spec_cases() -> list[tuple[str, set[str]]]:
    rows = re.findall(
        r"^\| `([a-z0-9_.]+)` \| [^|]+ \| ([^|]+) \|$", section("Conformance"), flags=re.MULTILINE
    )
    return [(case_id, set(re.findall(r"`([a-z_]+)`", reasons))) for case_id, reasons in rows]


def test_every_reason_has_a_case_or_says_why_it_cannot() -> None:
    missing = set(Reason) - covered_reasons() - NOT_TESTABLE.keys()
    assert not missing, f"no conformance case for {sorted(missing)}: add one, or say in NOT_TESTABLE why not"
    assert not covered_reasons() & NOT_TESTABLE.keys()
    assert all(len(why) > 40 for why in NOT_TESTABLE.values())


def test_the_spec_lists_every_case_with_its_reasons_in_the_order_they_are_played() -> None:
    in_code = [(case.id, {reason.value for reason in case.reasons}) for case in CASES]
    assert spec_cases() == in_code


def test_the_spec_says_why_each_untestable_reason_has_no_case() -> None:
    said = set(
        re.findall(r"^- `([a-z_]+)` is not testable from outside", section("Conformance"), re.MULTILINE)
    )
    assert said == {reason.value for reason in NOT_TESTABLE}


def test_the_reasons_table_points_to_the_conformance_section() -> None:
    assert '"Conformance"' in section("Reasons")
    assert SPEC.index("\n## Conformance\n") < SPEC.index("\n## Reasons\n")


def test_case_ids_are_unique_and_every_case_is_played() -> None:
    ids = [case.id for case in CASES]
    assert len(set(ids)) == len(ids)
    presentation = {case_id for case_id in ids if case_id.startswith("presentation.")}
    assert set(PRESENTATION_CASES) == presentation
    assert set(TOKENS) <= presentation


def test_every_reason_a_vault_raises_on_a_site_answer_is_said_in_words() -> None:
    site_signed = {"presentation.acknowledgement", "revocation.valid", "revocation.repeated", "access.valid"}
    raised = {reason for case in CASES if case.id in site_signed for reason in case.reasons}
    assert raised <= VAULT_REFUSES.keys()


def test_the_spec_lists_the_cases_beside_each_reason() -> None:
    rows = re.findall(r"^\| `([a-z_]+)` \| ([^|]+) \|$", section("Conformance"), flags=re.MULTILINE)
    by_reason = {reason: re.findall(r"`([a-z0-9_.]+)`", cases) for reason, cases in rows}
    expected = {reason.value: [case.id for case in CASES if reason in case.reasons] for reason in Reason}
    assert by_reason == expected
    assert [reason for reason, _ in rows] == [reason.value for reason in Reason]
    for reason in NOT_TESTABLE:
        assert dict(rows)[reason.value] == "not testable from outside (below)"
