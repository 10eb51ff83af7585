"""vault.words.count: a number and its noun in the right number, as every human-facing output says it."""

import pytest

from vault.words import count


@pytest.mark.parametrize(
    ("args", "kwargs", "words"),
    [
        ((1, "message"), {}, "1 message"),
        ((0, "message"), {}, "0 messages"),
        ((2, "discrepancy", "discrepancies"), {}, "2 discrepancies"),
        ((1, "discrepancy", "discrepancies"), {}, "1 discrepancy"),
        ((0, "file"), {"spelled": True}, "no files"),
        ((1, "file"), {"spelled": True}, "one file"),
        ((10, "file"), {"spelled": True}, "ten files"),
        ((11, "file"), {"spelled": True}, "11 files"),
    ],
)
def test_count(args: tuple, kwargs: dict, words: str) -> None:
    assert count(*args, **kwargs) == words
