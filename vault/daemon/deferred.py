"""Modules the daemon's libraries import as they load and the daemon never uses: imported only if used.

Litestar imports pdb at module level (the default of its `debugger_module`, used only with
pdb_on_exception) and PyYAML (for its YAML OpenAPI page; the daemon serves the JSON one only);
importlib.metadata imports csv (for a package's RECORD); platformdirs imports tempfile, whose shutil
imports bz2 and lzma, as zipfile does (each with its C library). Not zipfile itself: Litestar looks up its
own version as it loads, and importlib.metadata then opens every missing sys.path entry (python311.zip)
as a zip. Measured with scripts/bench_startup.py (stop 32): the daemon idled at 61.5 MiB after 1,000
presentations with all of them imported, 59.7 MiB with all of them deferred (60.0 with pdb, yaml and csv
alone); 57.3 MiB after unlock instead of 59.1.

So the `vault` command, before it imports anything else, puts a stand-in in sys.modules for each: `import
pdb` finds it and binds it without running anything, and the first attribute read or written imports the
real module (and hands every later one to it). Every command gets them, not only `vault serve`: the
libraries that import bz2 and lzma are loaded before click has parsed the command line. (Python 3.11's
importlib.util.LazyLoader cannot do this: the import statement reads the module's __spec__, which loads
it.) tests/daemon/test_startup.py checks that a real `vault serve` still has none of them loaded.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import types
from typing import Any

UNUSED_BY_THE_DAEMON = ("pdb", "yaml", "csv", "bz2", "lzma")
_importing = threading.RLock()  # the loop and the worker thread may both reach a stand-in first


class StandIn(types.ModuleType):
    """A module not imported yet: the first use of an attribute imports it."""

    def __getattr__(self, name: str) -> Any:  # only for what the stand-in itself does not hold
        return getattr(real_module(self), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(real_module(self), name, value)

    def __delattr__(self, name: str) -> None:
        delattr(real_module(self), name)


def real_module(stand_in: StandIn) -> types.ModuleType:
    name = stand_in.__name__
    with _importing:
        if sys.modules.get(name) is stand_in:
            del sys.modules[name]
        return importlib.import_module(name)


def defer_unused_imports(names: tuple[str, ...] = UNUSED_BY_THE_DAEMON) -> list[str]:
    """Puts a stand-in in sys.modules for each of `names` not imported yet and installed (a missing one
    still fails where it is imported). Returns the names deferred. Top-level modules only: the import
    system binds a submodule found in sys.modules without setting it on its package."""
    if dotted := [name for name in names if "." in name]:
        raise ValueError(f"only top-level modules can be deferred, not {dotted}")
    deferred = []
    for name in names:
        if name not in sys.modules and importlib.util.find_spec(name) is not None:
            sys.modules[name] = StandIn(name)
            deferred.append(name)
    return deferred
