"""Stand-ins for modules the daemon's libraries import and it never uses (vault.daemon.deferred): nothing
runs until an attribute is used, and then the real module answers, once, for every caller."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from vault.daemon.deferred import defer_unused_imports

MODULE = 'print("ran", flush=True)\nVALUE = 42\n'


def run(tmp_path: Path, code: str) -> list[str]:
    (tmp_path / "deferme.py").write_text(MODULE)
    script = "from vault.daemon.deferred import StandIn, defer_unused_imports\n" + textwrap.dedent(code)
    env_path = f"{tmp_path}:{Path(__file__).resolve().parents[2]}"
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_a_deferred_module_runs_on_its_first_attribute_and_is_then_the_real_one(tmp_path: Path) -> None:
    assert run(
        tmp_path,
        """
        import sys
        print(defer_unused_imports(("deferme", "no_such_module_here")))
        import deferme
        print("imported", isinstance(sys.modules["deferme"], StandIn))
        print(deferme.VALUE)
        from deferme import VALUE
        print(VALUE, isinstance(sys.modules["deferme"], StandIn), deferme.__file__.endswith("deferme.py"))
        deferme.LATER = 7
        print(sys.modules["deferme"].LATER)
        try:
            import no_such_module_here
        except ModuleNotFoundError:
            print("still missing")
        """,
    ) == ["['deferme']", "imported True", "ran", "42", "42 False True", "7", "still missing"]


def test_a_module_imported_already_is_left_alone(tmp_path: Path) -> None:
    assert run(
        tmp_path,
        """
        import deferme
        print(defer_unused_imports(("deferme",)))
        """,
    ) == ["ran", "[]"]


def test_threads_reaching_a_stand_in_together_run_the_module_once(tmp_path: Path) -> None:
    assert run(
        tmp_path,
        """
        import threading
        defer_unused_imports(("deferme",))
        import deferme
        start, seen = threading.Barrier(8), []
        def read():
            start.wait()
            seen.append(deferme.VALUE)
        threads = [threading.Thread(target=read) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        print(seen)
        """,
    ) == ["ran", str([42] * 8)]


def test_a_submodule_is_refused() -> None:
    with pytest.raises(ValueError, match="top-level"):
        defer_unused_imports(("email.message",))
