"""Words for people, shared by every layer: a count with its noun in the right number."""

_SPELLED = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def count(n: int, noun: str, plural: str | None = None, *, spelled: bool = False) -> str:
    """`1 disclosure`, `2 disclosures`, `3 discrepancies` (give `plural` when adding "s" is wrong);
    `spelled`: `no messages`, `one message`, `two messages` up to ten, as a letter says them."""
    number = _SPELLED[n] if spelled and 0 <= n < len(_SPELLED) else str(n)
    return f"{number} {noun if n == 1 else plural or noun + 's'}"
