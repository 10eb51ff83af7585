"""Architecture rules that are cheap to check: where `cryptography` is used, that the protocol takes its
clock and randomness as arguments, which package of `vault` may import which, and how long a module may
grow."""

from __future__ import annotations

import ast
from pathlib import Path

VAULT = Path(__file__).resolve().parents[2] / "vault"

# Which part of `vault` each part may import (besides itself): the arrows of DESIGN.md and STYLE.md,
#   protocol <- site, store, claims <- consent <- daemon <- demo, cli
# read as layers. `errors` is vault/errors.py (the vault side's shared exceptions), `words` vault/words.py
# (words for people: counts with their noun), both leaves any vault-side layer may use. The website side
# (protocol, site) is installed without the rest, so it imports nothing else; `consent` is the service
# over the store and the claim catalogue, so it stands above them; the demo plays a site (site) next to
# a real vault (daemon, store, claims); the CLI is the top and may use every part, the demo included
# (`vault demo`, and `vault handshake`, which verifies what it receives as a site would).
# Today's code has no edge outside these arrows: an exception would be listed in KNOWN_EXCEPTIONS with
# a comment saying why, never added to ALLOWED_IMPORTS silently.
ALLOWED_IMPORTS: dict[str, set[str]] = {
    "protocol": set(),
    "site": {"protocol"},
    "conformance": {"protocol", "site"},
    "errors": set(),
    "words": set(),
    "store": {"protocol", "errors", "words"},
    "claims": {"protocol", "errors", "words"},
    "consent": {"protocol", "errors", "words", "store", "claims"},
    "daemon": {"protocol", "errors", "words", "store", "claims", "consent"},
    "demo": {"protocol", "errors", "words", "site", "store", "claims", "daemon"},
    "cli": {"protocol", "errors", "words", "site", "store", "claims", "consent", "daemon", "demo"}
    | {"conformance"},
    "__main__": {"cli"},
    "__init__": set(),
}
# (importing module relative to vault/, imported part): why it is allowed for now.
KNOWN_EXCEPTIONS: dict[tuple[str, str], str] = {}

# Modules over the ~400-line limit, with their length when the limit was first checked everywhere: they
# may shrink (and leave this list when they are under the limit) but not grow, and no other may join.
MAX_MODULE_LINES = 400
OVERSIZED_MODULES: dict[str, int] = {}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import (we write absolute ones)"
            if node.module:
                names.add(node.module)
    return names


def part_of(path: Path) -> str:
    """The part of `vault` a file belongs to: its package, or the stem of a top-level module."""
    relative = path.relative_to(VAULT)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def vault_modules() -> list[Path]:
    return sorted(path for path in VAULT.rglob("*.py") if "__pycache__" not in path.parts)


def import_edges() -> set[tuple[str, str]]:
    """(importing file relative to vault/, imported part) for every import of another part of vault."""
    edges = set()
    for path in vault_modules():
        for name in imported_modules(path):
            parts = name.split(".")
            if parts[0] != "vault":
                continue
            assert len(parts) > 1, f"{path}: `import vault` says nothing about which part it needs"
            if parts[1] != part_of(path):
                edges.add((path.relative_to(VAULT).as_posix(), parts[1]))
    return edges


def test_only_keys_py_imports_cryptography() -> None:
    users = {
        path.relative_to(VAULT).as_posix()
        for path in vault_modules()
        if any(name.split(".")[0] == "cryptography" for name in imported_modules(path))
    }
    assert users <= {"protocol/keys.py"}, users


def test_protocol_has_no_clock_no_randomness_no_io() -> None:
    forbidden = {"time", "datetime", "random", "secrets", "os", "socket", "pathlib", "io", "subprocess"}
    for path in (VAULT / "protocol").glob("*.py"):
        roots = {name.split(".")[0] for name in imported_modules(path)}
        assert not roots & forbidden, (path.name, roots & forbidden)


def test_every_part_of_vault_is_in_the_import_rules() -> None:
    parts = {part_of(path) for path in vault_modules()}
    assert parts == ALLOWED_IMPORTS.keys()


def test_imports_follow_the_arrows() -> None:
    violations = {
        (module, imported)
        for module, imported in import_edges()
        if imported not in ALLOWED_IMPORTS[module.split("/")[0].removesuffix(".py")]
    }
    assert violations <= KNOWN_EXCEPTIONS.keys(), sorted(violations - KNOWN_EXCEPTIONS.keys())
    # An exception that is no longer needed leaves the list.
    assert KNOWN_EXCEPTIONS.keys() <= violations, sorted(KNOWN_EXCEPTIONS.keys() - violations)


def test_the_arrows_point_one_way() -> None:
    for part, allowed in ALLOWED_IMPORTS.items():
        for other in allowed:
            assert part not in ALLOWED_IMPORTS[other], (part, other)


def test_protocol_and_site_import_nothing_of_the_vault_side() -> None:
    for module, imported in import_edges():
        assert not module.startswith("protocol/"), (module, imported)  # protocol imports only itself
        if module.startswith("site/"):
            assert imported == "protocol", (module, imported)


def test_modules_stay_small() -> None:
    sizes = {
        path.relative_to(VAULT).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
        for path in vault_modules()
    }
    oversized = {name: size for name, size in sizes.items() if size > MAX_MODULE_LINES}
    new = sorted(set(oversized) - OVERSIZED_MODULES.keys())
    assert not new, f"over {MAX_MODULE_LINES} lines (split them): {[(name, sizes[name]) for name in new]}"
    for name, limit in OVERSIZED_MODULES.items():
        assert name in sizes, f"{name} is gone: remove it from OVERSIZED_MODULES"
        assert sizes[name] <= limit, f"{name} grew from {limit} to {sizes[name]} lines"
        assert sizes[name] > MAX_MODULE_LINES, f"{name} is small now: remove it from OVERSIZED_MODULES"


def test_the_vector_generator_stays_small_too() -> None:
    """scripts/gen_vectors.py and its modules (one per message) follow the same limit."""
    scripts = VAULT.parent / "scripts"
    modules = [scripts / "gen_vectors.py", scripts / "vector_tools.py", *scripts.glob("vectors_*.py")]
    sizes = {path.name: len(path.read_text(encoding="utf-8").splitlines()) for path in modules}
    assert len(sizes) >= 8
    assert {name: size for name, size in sizes.items() if size > MAX_MODULE_LINES} == {}
