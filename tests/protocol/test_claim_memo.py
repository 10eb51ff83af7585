"""The claim types remember strings they accepted (so recurring values skip the regex): the memo is bounded
by count, never holds a refused value, and a str subclass never gets in or matches through it."""

from __future__ import annotations

from vault.protocol import claim_types
from vault.protocol.claim_types import MEMO_SIZE, claim_value_ok


def memo_of(name: str) -> dict:
    """The memo in the type's check (or in its items' check, for a list)."""
    accepts = claim_types.CLAIM_TYPES[name].accepts
    while True:
        cells = [cell.cell_contents for cell in accepts.__closure__]
        memo = next((c for c in cells if isinstance(c, dict)), None)
        if memo is not None:
            return memo
        accepts = next(c for c in cells if callable(c))


def test_accepted_strings_are_remembered_and_refused_ones_are_not() -> None:
    memo = memo_of("location.region")
    memo.clear()
    assert claim_value_ok("location.region", "Noord-Holland") and "Noord-Holland" in memo
    assert claim_value_ok("location.region", "Noord-Holland")  # from the memo
    for refused in (" leading space", "", "x" * 101, "tab\there"):
        assert not claim_value_ok("location.region", refused)
        assert refused not in memo


def test_the_memo_is_bounded_by_count() -> None:
    memo = memo_of("interests")  # the topic type inside the interests list
    for n in range(3 * MEMO_SIZE):
        assert claim_value_ok("interests", [f"topic {n}"])
        assert len(memo) <= MEMO_SIZE


def test_a_str_subclass_neither_enters_the_memo_nor_matches_through_it() -> None:
    class Sly(str):
        def __eq__(self, other: object) -> bool:
            return True

        __hash__ = str.__hash__

    memo = memo_of("location.region")
    assert claim_value_ok("location.region", "Utrecht")
    assert not claim_value_ok("location.region", Sly(" bad"))  # equal to everything, valid to nothing
    assert claim_value_ok("location.region", Sly("Zeeland"))
    assert all(type(value) is str for value in memo)
