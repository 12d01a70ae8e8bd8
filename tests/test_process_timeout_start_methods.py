"""process_timeout judged under every start method multiprocessing has on Linux.

Students' default differs: fork on Linux up to 3.13, forkserver on Linux from 3.14,
spawn on macOS and Windows. Children started through the forkserver are its children,
carry its command line, and are reaped by it, not by the caller: a hidden test that
recognised a process by its command line, or a missing join by a zombie, would let a
child left behind pass. Here the reference and the known-wrong variants that leave a
child behind are graded with multiprocessing's default forced to each method (a line
appended to their watchdog.py, run when the grader imports it), so the host's Python
catches what 3.14's default would hide.
"""
from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
import yaml

from grader.catalog import load_exercise
from grader.model import ExerciseResult
from grader.runner import grade_exercise
from grader.submissions import Submission

ROOT = Path(__file__).resolve().parent.parent
EXERCISE = ROOT / "exercises" / "process_timeout"
MUTANTS = Path(__file__).resolve().parent / "mutants" / "process_timeout"
METHODS = [m for m in ("fork", "spawn", "forkserver") if m in multiprocessing.get_all_start_methods()]
# The variants that leave a child behind (running, or never joined).
LEAVE_A_CHILD = ("timeout_child_left_running", "terminate_without_join", "success_without_join")


def forced(source: Path, method: str, folder: Path) -> Submission:
    """The watchdog.py at `source`, with multiprocessing's default start method set to `method`."""
    folder.mkdir(parents=True)
    text = source.read_text(encoding="utf-8")
    # Appended, not prepended: a `from __future__` import must stay first. It runs when the
    # grader imports the module, before any run_with_timeout call (and again, harmlessly,
    # in a spawned child that imports it).
    text += ("\n\nimport multiprocessing as _start_method_under_test\n"
             f"_start_method_under_test.set_start_method({method!r}, force=True)\n")
    (folder / "watchdog.py").write_text(text, encoding="utf-8")
    return Submission(f"{folder.name} ({method})", {"watchdog.py": folder / "watchdog.py"}, folder)


def grade(source: Path, method: str, tmp_path: Path) -> ExerciseResult:
    exercise = load_exercise(EXERCISE, ROOT / "solutions")
    result = grade_exercise(forced(source, method, tmp_path / source.parent.name), exercise)
    assert result.status == "graded", f"not graded ({result.status}): {result.message}"
    return result


def every_test(result: ExerciseResult) -> str:
    return "\n".join(f"  {t.name}: {t.verdict} ({t.points:g}/{t.max_points:g}) {t.message}".rstrip()
                     for t in result.tests)


def test_the_forced_method_is_the_one_the_child_runs_under(tmp_path: Path) -> None:
    """The wrapper really changes the default: otherwise every test below proves nothing."""
    source = tmp_path / "probe.py"
    source.write_text("import multiprocessing\n", encoding="utf-8")
    for method in METHODS:
        submission = forced(source, method, tmp_path / method)
        namespace: dict = {}
        exec(compile(submission.files["watchdog.py"].read_text(), "watchdog.py", "exec"), namespace)
        assert multiprocessing.get_start_method() == method
    multiprocessing.set_start_method(None, force=True)  # back to this Python's default


@pytest.mark.parametrize("method", METHODS)
def test_reference_scores_full_marks(method: str, tmp_path: Path) -> None:
    result = grade(ROOT / "solutions" / "process_timeout" / "watchdog.py", method, tmp_path)
    assert result.points == result.max_points, (
        f"the reference under {method} scores {result.points:g}/{result.max_points:g}:\n{every_test(result)}")


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("mutant", LEAVE_A_CHILD)
def test_a_child_left_behind_loses_its_points(mutant: str, method: str, tmp_path: Path) -> None:
    spec = yaml.safe_load((MUTANTS / "mutants.yaml").read_text(encoding="utf-8"))[mutant]
    result = grade(MUTANTS / mutant / "watchdog.py", method, tmp_path)
    wrong = [f"{t.name}: expected to fail, passed" for t in result.tests
             if t.name in spec["fails"] and t.passed]
    wrong += [f"{t.name}: expected to pass, got {t.verdict}: {t.message}" for t in result.tests
              if t.name not in spec["fails"] and not t.passed]
    assert not wrong, (f"{mutant} under {method} ({spec['description']}):\n  " + "\n  ".join(wrong)
                       + f"\nevery test:\n{every_test(result)}")
