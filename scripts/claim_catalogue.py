#!/usr/bin/env python3
"""Write the claim catalogue section of the site developer's guide (vault/site/README.md) from the data.

    scripts/claim_catalogue.py            rewrite the section between the markers
    scripts/claim_catalogue.py --check    exit 1 if the section is not what this script writes

The data is the protocol's claim vocabulary (vault/protocol/claim_types.py: each claim's type, its rule
and an example value) and the vault's claim catalogue (vault/claims/catalogue.py: what each claim
reveals, its sensitivity, and the coarser claims of its family). A new claim is a new row there; this
script and tests/site/test_guide.py keep the guide from describing an older vocabulary.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from vault.claims.catalogue import CLAIMS  # noqa: E402 (after the path set-up above)
from vault.protocol.claim_types import (  # noqa: E402
    CLAIM_EXAMPLES,
    CLAIM_TYPES,
    EMAIL_MAX_CHARS,
    ENUMERATIONS,
    LANGUAGE_TAG_MAX_CHARS,
    TOPIC_MAX_CHARS,
)
from vault.protocol.countries import ISO_3166_ALPHA2  # noqa: E402

GUIDE = ROOT / "vault" / "site" / "README.md"
BEGIN = (
    "<!-- claim catalogue: begin (written by scripts/claim_catalogue.py from vault/protocol/claim_types.py"
    " and vault/claims/catalogue.py: change those, then run it) -->"
)
END = "<!-- claim catalogue: end -->"

SENSITIVITY_WORDS = {
    "low": "low",
    "medium": "medium",
    "high": "**high**: asked every time",
}


class CatalogueError(Exception):
    """The data disagrees with itself, or the guide has no place for the catalogue."""


def cell(text: str) -> str:
    """Text for one cell of a Markdown table: a `|` would end the cell."""
    return text.replace("|", "\\|")


def example_value(name: str) -> str:
    return "`" + json.dumps(CLAIM_EXAMPLES[name], ensure_ascii=False) + "`"


def rows() -> list[str]:
    names = list(CLAIM_TYPES)
    for table, label in ((CLAIMS, "vault/claims/catalogue.py"), (CLAIM_EXAMPLES, "CLAIM_EXAMPLES")):
        if set(table) != set(names):
            missing = sorted(set(names) ^ set(table))
            raise CatalogueError(f"{label} and CLAIM_TYPES list different claims: {', '.join(missing)}")
    lines = [
        "| claim | value (type and format) | what it reveals | sensitivity | coarser claims | example |",
        "|---|---|---|---|---|---|",
    ]
    for name in names:
        spec = CLAIMS[name]
        coarser = ", ".join(f"`{other}`" for other in spec.coarser) or "none"
        lines.append(
            f"| `{name}` | {cell(CLAIM_TYPES[name].rule)} | {cell(spec.describe)} "
            f"| {SENSITIVITY_WORDS[spec.sensitivity]} | {coarser} | {cell(example_value(name))} |"
        )
    return lines


def terms() -> list[str]:
    enumerations = [
        f"**{label}**: " + ", ".join(f"`{value}`" for value in values)
        for label, values in ENUMERATIONS.items()
    ]
    bullets = [
        "**text** of 1 to N characters: at most N Unicode code points, no control characters, and no white "
        "space first or last;",
        f"a **topic**: text of 1 to {TOPIC_MAX_CHARS} characters without `,` `[` `]` `{{` `}}` `<` `>`;",
        f"a **language tag**: a BCP 47 tag of at most {LANGUAGE_TAG_MAX_CHARS} characters (`nl`, `en-GB`, "
        "`zh-Hant-TW`);",
        f"an **email address**: `local@domain.tld`, at most {EMAIL_MAX_CHARS} characters;",
        f"an **ISO 3166-1 alpha-2 country code**: one of the {len(ISO_3166_ALPHA2)} assigned codes, in upper "
        "case (`NL`, never `nl`);",
        "a **list of 1 to N distinct** items: a JSON array, never empty (a vault leaves out a claim it has "
        "nothing for), no item twice;",
        "the enumerations, case-sensitive:",
    ]
    return [
        'The words in the value column mean (SPEC.md, "Claim value types", has the exact rules):',
        "",
        *(line for bullet in bullets for line in wrap(bullet, first="- ", then="  ")),
        *(line for bullet in enumerations for line in wrap(bullet, first="  - ", then="    ")),
    ]


def catalogue() -> str:
    """The section between the markers, markers included."""
    sensitivity = (
        "Sensitivity is how much harm a disclosure could do. A **high** claim identifies the user or may "
        "reveal their health, religion or address: the vault asks its user about it every time (unless "
        "they chose otherwise for that claim), so a purpose that requires one prompts on most visits."
    )
    return "\n".join([BEGIN, "", *rows(), "", *terms(), "", *wrap(sensitivity), "", END])


def wrap(text: str, *, first: str = "", then: str = "", width: int = 110) -> list[str]:
    """`text` in lines of at most `width` characters (a longer word stands alone), the first starting
    with `first` and the others with `then`."""
    lines: list[str] = []
    line, empty = first, True
    for word in text.split():
        if not empty and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = then + word
        else:
            line = line + word if empty else f"{line} {word}"
        empty = False
    return [*lines, line]


def rewritten(guide: str) -> str:
    """`guide` with its catalogue section replaced by the current one."""
    start, end = guide.find(BEGIN), guide.find(END)
    if start < 0 or end < start:
        raise CatalogueError(f"the guide has no catalogue section: put the two markers in it\n{BEGIN}\n{END}")
    return guide[:start] + catalogue() + guide[end + len(END) :]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the guide's catalogue is stale")
    parser.add_argument("--guide", type=Path, default=GUIDE, help="the guide to write (default: %(default)s)")
    args = parser.parse_args(argv)
    current = args.guide.read_text(encoding="utf-8")
    try:
        wanted = rewritten(current)
    except CatalogueError as problem:
        print(f"{args.guide}: {problem}", file=sys.stderr)
        return 2
    if wanted == current:
        print(f"{args.guide}: the claim catalogue is up to date")
        return 0
    if args.check:
        print(
            f"{args.guide}: the claim catalogue is stale (the claim data changed): "
            "run scripts/claim_catalogue.py",
            file=sys.stderr,
        )
        return 1
    args.guide.write_text(wanted, encoding="utf-8")
    print(f"{args.guide}: wrote the claim catalogue ({len(CLAIM_TYPES)} claims)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
