"""The project-wide check of every exercise's hidden tests, through the real grader.

For every exercise under exercises/: the reference solution scores full marks, the
untouched stub loses points, and every mutant (a typical wrong answer, under
tests/mutants/<exercise>/<mutant>/ and declared in tests/mutants/<exercise>/mutants.yaml
with the hidden tests it must fail) fails exactly those tests and passes every other.

The points policy ("an answer that still has the exercise's titular bug earns at most
30%") is data too: a mutant declared `titular: true` must score at most 30% of the
exercise, and so must the untouched stub of every exercise that declares one.

Cases are found when the tests are collected, so exercises and mutants added later are
checked without touching this file. Grading takes seconds per case, so the selected cases
are graded in the background as soon as the first of them runs: several at a time, except
exercises marked `timing: true`, which measure speedups and are graded alone.
"""
from __future__ import annotations

import os
import re
import threading
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

from grader.catalog import Exercise, load_exercise
from grader.model import ExerciseResult
from grader.runner import grade_exercise
from grader.sandbox import cancel_all
from grader.submissions import Submission

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = ROOT / "exercises"
SOLUTIONS = ROOT / "solutions"
MUTANTS = Path(__file__).resolve().parent / "mutants"
SLOTS = max(1, min(4, os.cpu_count() or 1))  # grading runs sharing the machine at once


def exercise_ids() -> list[str]:
    if not EXERCISES.is_dir():
        return []
    return sorted(p.name for p in EXERCISES.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def read_mutants(exercise_id: str) -> dict[str, Any]:
    """mutants.yaml as written; raises with a one-line reason when it is unusable."""
    source = MUTANTS / exercise_id / "mutants.yaml"
    if not source.is_file():
        raise LookupError(f"no {source.relative_to(ROOT)}: list the typical wrong answers there")
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ValueError(f"{source.relative_to(ROOT)} is not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not data:
        raise ValueError(f"{source.relative_to(ROOT)}: expected a mapping of mutant name to description and fails")
    return data


@dataclass(frozen=True)
class Case:
    kind: str  # solution | stub | mutant
    exercise_id: str
    mutant: str = ""

    def __str__(self) -> str:
        return f"{self.exercise_id}/{self.mutant}" if self.mutant else self.exercise_id

    def submission(self, exercise: Exercise) -> Submission:
        folder = {"solution": SOLUTIONS / self.exercise_id, "stub": exercise.path,
                  "mutant": MUTANTS / self.exercise_id / self.mutant}[self.kind]
        files = {name: folder / name for name in exercise.files if (folder / name).is_file()}
        return Submission(f"{self.kind} {self}", files, folder)


def mutant_cases() -> list[Case]:
    cases = []
    for exercise_id in exercise_ids():
        try:
            declared = read_mutants(exercise_id)
        except (LookupError, ValueError):
            continue  # test_mutants_are_declared says why
        cases += [Case("mutant", exercise_id, str(name)) for name in declared
                  if (MUTANTS / exercise_id / str(name)).is_dir()]
    return cases


# --------------------------------------------------------------------------- grading queue

class GradingQueue:
    """Grades cases in the background, in the order the tests will ask for them."""

    def __init__(self, cases: list[Case]) -> None:
        self.futures: dict[Case, Future[ExerciseResult]] = {case: Future() for case in cases}
        threading.Thread(target=self._dispatch, args=(cases,), name="grading-queue", daemon=True).start()

    def result(self, case: Case) -> ExerciseResult:
        if case not in self.futures:  # selected in a way the queue did not foresee
            self.futures[case] = Future()
            self._run(case, _load(case.exercise_id), threading.BoundedSemaphore(1), release=0)
        return self.futures[case].result()

    def _dispatch(self, cases: list[Case]) -> None:
        slots = threading.BoundedSemaphore(SLOTS)
        for case in cases:
            try:
                exercise = _load(case.exercise_id)
            except Exception as exc:
                self.futures[case].set_exception(exc)
                continue
            if exercise.timing:
                # A timing exercise measures speedups: it waits for the machine to be idle
                # and keeps it to itself (taking every slot keeps the order too).
                for _ in range(SLOTS):
                    slots.acquire()
                self._run(case, exercise, slots, release=SLOTS)
            else:
                slots.acquire()
                threading.Thread(target=self._run, args=(case, exercise, slots, 1), daemon=True).start()

    def _run(self, case: Case, exercise: Exercise, slots: threading.BoundedSemaphore, release: int) -> None:
        try:
            self.futures[case].set_result(grade_exercise(case.submission(exercise), exercise))
        except Exception as exc:
            self.futures[case].set_exception(exc)
        finally:
            for _ in range(release):
                slots.release()


_loaded: dict[str, Exercise] = {}


def _load(exercise_id: str) -> Exercise:
    if exercise_id not in _loaded:
        _loaded[exercise_id] = load_exercise(EXERCISES / exercise_id, SOLUTIONS)
    return _loaded[exercise_id]


@pytest.fixture(scope="session")
def grading(request: pytest.FixtureRequest) -> Iterator[GradingQueue]:
    selected = [item.callspec.params["case"] for item in request.session.items
                if hasattr(item, "callspec") and isinstance(item.callspec.params.get("case"), Case)]
    yield GradingQueue(list(dict.fromkeys(selected)))
    # A session stopped early (-x, Ctrl-C) leaves cases grading: their processes go too.
    cancel_all()


# --------------------------------------------------------------------------- checks

def explain(result: ExerciseResult) -> str:
    lines = [f"  {t.name}: {t.verdict} ({t.points:g}/{t.max_points:g}) {t.message}".rstrip()
             for t in result.tests]
    if result.message:
        lines.append(f"  grader: {result.message}")
    return "\n".join(lines)


def exercise_or_fail(exercise_id: str) -> Exercise:
    try:
        return _load(exercise_id)
    except Exception as exc:
        pytest.fail(f"{exercise_id}: {exc}", pytrace=False)


def mutants_or_fail(exercise_id: str) -> dict[str, Any]:
    try:
        return read_mutants(exercise_id)
    except (LookupError, ValueError) as exc:
        pytest.fail(f"{exercise_id}: {exc}", pytrace=False)


def graded(grading: GradingQueue, case: Case) -> ExerciseResult:
    exercise_or_fail(case.exercise_id)
    result = grading.result(case)
    if result.status != "graded":
        pytest.fail(f"{case.kind} {case}: not graded ({result.status}): {result.message}\n{explain(result)}",
                    pytrace=False)
    return result


def test_there_are_exercises_to_check() -> None:
    assert exercise_ids(), f"no exercise folders under {EXERCISES}"


@pytest.mark.parametrize("case", [Case("solution", e) for e in exercise_ids()], ids=str)
def test_reference_solution_scores_full_marks(grading: GradingQueue, case: Case) -> None:
    exercise = exercise_or_fail(case.exercise_id)
    missing = [name for name in exercise.files if not (SOLUTIONS / case.exercise_id / name).is_file()]
    assert not missing, f"{case}: no reference solution {', '.join(missing)} under {SOLUTIONS / case.exercise_id}"
    result = graded(grading, case)
    assert result.points == result.max_points, (
        f"the reference solution of {case} scores {result.points:g}/{result.max_points:g}:\n{explain(result)}")


@pytest.mark.parametrize("case", [Case("stub", e) for e in exercise_ids()], ids=str)
def test_untouched_stub_loses_points(grading: GradingQueue, case: Case) -> None:
    result = graded(grading, case)
    assert result.points < result.max_points, (
        f"the untouched stub of {case} scores full marks ({result.max_points:g}):\n{explain(result)}")


TITULAR_SHARE = 0.3  # what an answer with the exercise's titular bug may keep, at most


def adopts_points_policy(exercise_id: str) -> bool:
    try:
        return any(isinstance(spec, dict) and spec.get("titular") is True
                   for spec in read_mutants(exercise_id).values())
    except (LookupError, ValueError):
        return False


@pytest.mark.parametrize("case", [Case("stub", e) for e in exercise_ids() if adopts_points_policy(e)], ids=str)
def test_untouched_stub_keeps_at_most_the_titular_share(grading: GradingQueue, case: Case) -> None:
    result = graded(grading, case)
    assert result.points <= TITULAR_SHARE * result.max_points, (
        f"the untouched stub of {case} scores {result.points:g}/{result.max_points:g}, more than "
        f"{TITULAR_SHARE:.0%}: the bug in the exercise's title must cost most of the points "
        f"(state the points policy in its README):\n{explain(result)}")


@pytest.mark.parametrize("case", mutant_cases(), ids=str)
def test_mutant_fails_exactly_its_tests(grading: GradingQueue, case: Case) -> None:
    spec = mutants_or_fail(case.exercise_id)[case.mutant]
    expected_failures = set(spec["fails"])
    result = graded(grading, case)
    for _ in range(2):
        # A test the machine kept from being judged (busy, out of its time budget) passes
        # unjudged: no verdict, which the gradebook retries. So does this check.
        if not any(t.retry for t in result.tests if t.name in expected_failures):
            break
        result = grade_exercise(case.submission(_load(case.exercise_id)), _load(case.exercise_id))
    unjudged = [t for t in result.tests if t.name in expected_failures and t.retry]
    if unjudged:
        pytest.skip(f"{case}: not judged on this machine now ({unjudged[0].message[:200]})")
    problems = []
    for test in result.tests:
        if test.name in expected_failures and test.passed:
            problems.append(f"{test.name}: expected to fail, but it passed")
        elif test.name not in expected_failures and not test.passed:
            problems.append(f"{test.name}: expected to pass, got {test.verdict}: {test.message}")
    lost = sum(t.max_points for t in result.tests if t.name in expected_failures)
    if spec.get("titular") is True and result.max_points - lost > TITULAR_SHARE * result.max_points:
        problems.append(f"declared titular (it has the exercise's titular bug), yet failing its tests "
                        f"leaves {result.max_points - lost:g}/{result.max_points:g}, more than "
                        f"{TITULAR_SHARE:.0%}")
    assert not problems, (
        f"mutant {case} ({spec['description']}):\n  " + "\n  ".join(problems)
        + f"\nexpected {result.max_points - lost:g}/{result.max_points:g}, got "
          f"{result.points:g}/{result.max_points:g}; every test:\n{explain(result)}")


@pytest.mark.parametrize("exercise_id", exercise_ids())
def test_mutants_are_declared(exercise_id: str) -> None:
    exercise = exercise_or_fail(exercise_id)
    declared = mutants_or_fail(exercise_id)
    tests = {t.name for t in exercise.tests}
    problems = []
    for name, spec in declared.items():
        folder = MUTANTS / exercise_id / str(name)
        if not isinstance(spec, dict) or not isinstance(spec.get("description"), str) \
                or not isinstance(spec.get("fails"), list) or not spec["fails"]:
            problems.append(f"{name}: expected {{description: text, fails: [hidden tests it must fail]}}")
            continue
        if "titular" in spec and not isinstance(spec["titular"], bool):
            problems.append(f"{name}: titular must be true or false")
        unknown = [t for t in spec["fails"] if t not in tests]
        if unknown:
            problems.append(f"{name}: fails lists {', '.join(map(str, unknown))}, not a test of exercise.yaml")
        if not all((folder / f).is_file() for f in exercise.files):
            problems.append(f"{name}: no {', '.join(exercise.files)} in {folder.relative_to(ROOT)}")
    for folder in sorted((MUTANTS / exercise_id).iterdir()):
        if folder.is_dir() and not folder.name.startswith((".", "_")) and folder.name not in declared:
            problems.append(f"{folder.name}: a mutant folder that mutants.yaml does not declare")
    assert not problems, f"tests/mutants/{exercise_id}/mutants.yaml:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("exercise_id", exercise_ids())
def test_statement_states_the_points_the_grader_gives(exercise_id: str) -> None:
    """The README's table of hidden checks lists exactly exercise.yaml's points, in order,
    and an exercise that adopts the points policy states it."""
    exercise = exercise_or_fail(exercise_id)
    readme = exercise.path / "README.md"
    if not readme.is_file():
        pytest.skip(f"{exercise_id} has no README.md yet")
    text = readme.read_text(encoding="utf-8")
    table = [float(n) for n in re.findall(r"\|\s*([0-9]+(?:\.[0-9]+)?)\s*\|\s*$", text, re.M)]
    assert table == [t.points for t in exercise.tests], (
        f"{exercise_id}/README.md lists points {table}, exercise.yaml gives "
        f"{[t.points for t in exercise.tests]}")
    if adopts_points_policy(exercise_id):
        assert "**Points policy.**" in text, f"{exercise_id}/README.md does not state its points policy"
