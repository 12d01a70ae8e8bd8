"""The Pythons the grader is tested on, and the facts of the one running it.

The engine relies on what changes between CPython versions (sys.settrace, built on
sys.monitoring since 3.12; bytecode layout; multiprocessing's default start method,
forkserver on Linux since 3.14). `make test-pythons` (tools/pythons.py) runs the engine
tests and grades every reference and stub on each version in TESTED; README.md and
pyproject.toml's classifiers state the same list (tests/test_pythons.py checks both).

A free-threaded build (3.13t, 3.14t: `sys._is_gil_enabled()` false) changes what the
course teaches: threads do speed up CPU-bound work, and an unsynchronised `list.append`
or `+=` is no longer made safe by the GIL. The thresholds of the timing exercises are for
the GIL build, so every report says which build graded it.

`python -m grader.pythons` prints one line when this Python is not a tested one (the
student bundle's `make check` runs it first) and exits 0: a self-check on another version
is still worth running, it may just not match grading exactly.
"""
from __future__ import annotations

import platform
import sys

# "major.minor" of the CPython versions `make test-pythons` passes on, oldest first.
TESTED = ("3.11", "3.13", "3.14")
OLDEST = (3, 11)  # older ones cannot run the grader at all (tomllib, typing)


def version() -> str:
    return "%d.%d" % sys.version_info[:2]


def gil_enabled() -> bool:
    """False on a free-threaded build running without its GIL (3.13t, 3.14t)."""
    check = getattr(sys, "_is_gil_enabled", None)
    return True if check is None else bool(check())


def untested_warning(implementation: str | None = None, full_version: str | None = None,
                     gil: bool | None = None) -> str | None:
    """One line when this Python (or the one described) is not one the grader was tested
    on, or is a free-threaded build; None when it is a tested one."""
    implementation = implementation or platform.python_implementation()
    full_version = full_version or platform.python_version()
    gil = gil_enabled() if gil is None else gil
    here = f"{implementation} {full_version}"
    short = ".".join(full_version.split(".")[:2])
    if implementation != "CPython" or short not in TESTED:
        return (f"warning: the grader was tested on CPython {', '.join(TESTED)}, not on {here}: "
                f"the self-check may not match grading (make PYTHON=python{TESTED[-1]} check "
                f"if you have it)")
    if not gil:
        return (f"warning: {here} is a free-threaded build (no GIL): threads really run in "
                f"parallel here and unsynchronised updates are lost more often; the timing "
                f"exercises' thresholds are for the GIL build")
    return None


def main() -> int:
    if sys.version_info[:2] < OLDEST:
        print(f"Python {'.'.join(map(str, OLDEST))} or later is needed, this is "
              f"{platform.python_version()}: make PYTHON=python{TESTED[-1]} check", file=sys.stderr)
        return 1
    line = untested_warning()
    if line:
        print(line, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
