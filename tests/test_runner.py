"""One submission x one exercise -> ExerciseResult: points per test as exercise.yaml says."""
from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import pytest

from grader import runner
from grader.catalog import Catalog
from grader.model import ExerciseResult, SubmissionResult
from grader.runner import grade_exercise, grade_submission
from grader.submissions import Submission

FIXTURES = Path(__file__).parent / "fixtures"


def submission(variant: str, name: str = "basic.py") -> Submission:
    path = FIXTURES / "students" / "basic" / variant / name
    return Submission(variant, {name: path}, path.parent)


def by_test(result: ExerciseResult) -> dict[str, tuple[float, str, str]]:
    return {t.name: (t.points, t.verdict, t.message) for t in result.tests}


def test_a_good_file_earns_the_points_of_every_test_that_ran(fixture_catalog: Catalog) -> None:
    sub = submission("good")
    result = grade_exercise(sub, fixture_catalog.get("basic"))
    assert by_test(result) == {
        "test_add": (2.0, "passed", ""),
        "test_sub": (1.0, "passed", ""),
        "test_given": (1.0, "passed", "double(21) gave 42"),  # its recorded note
        # declared in the yaml, absent from the hidden tests: failed, never passed
        "test_undefined": (0.0, "not_judged", "did not run: the hidden tests do not define it"),
    }
    assert (result.points, result.max_points, result.status) == (4.0, 5.0, "graded")
    assert "hidden test test_extra is not in exercise.yaml; ignored" in result.message
    assert result.file_hash == hashlib.sha256(sub.files["basic.py"].read_bytes()).hexdigest()
    assert result.sandbox in ("bwrap", "user", "plain") and result.duration > 0  # bwrap where it works
    given = next(t for t in result.tests if t.name == "test_given")
    assert given.details == {"figures": {"calls": 1}, "speedup verdict": "2.0x with 2 workers"}


def test_a_parametrised_test_needs_every_case(fixture_catalog: Catalog) -> None:
    result = grade_exercise(submission("wrong"), fixture_catalog.get("basic"))
    assert by_test(result)["test_sub"] == (0.0, "wrong", "[3-5--2] sub(3, 5) should be -2, got 2")
    assert result.points == 3.0


def test_not_submitted_scores_zero_without_running_anything(fixture_catalog: Catalog,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "run_hidden_tests", lambda *a, **k: pytest.fail("ran the sandbox"))
    result = grade_exercise(Submission("eve", {}, FIXTURES), fixture_catalog.get("basic"))
    assert result.status == "not_submitted" and result.points == 0
    assert {t.verdict for t in result.tests} == {"not_submitted"}
    assert result.tests[0].message == "basic.py was not submitted"


def test_tampering_fails_every_test(fixture_catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    # A hidden test of the exercise changed during the run (the sandbox's check, which
    # tests/test_sandbox.py exercises): every test of the run is tampered.
    real = runner.run_hidden_tests
    monkeypatch.setattr(runner, "run_hidden_tests", lambda *a, **k: dataclasses.replace(
        real(*a, **k), tampered=("exercise hidden/test_basic.py",)))
    result = grade_exercise(submission("tamperer"), fixture_catalog.get("basic"))
    assert {t.verdict for t in result.tests} == {"tampered"}
    assert result.points == 0
    assert "hidden/test_basic.py" in result.tests[0].message


def test_a_grader_bug_becomes_an_error_result(fixture_catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the sandbox broke")

    monkeypatch.setattr(runner, "run_hidden_tests", broken)
    result = grade_exercise(submission("good"), fixture_catalog.get("basic"))
    assert result.status == "error" and result.points == 0
    assert result.message.startswith("the grader failed: RuntimeError: the sandbox broke")
    assert {t.verdict for t in result.tests} == {"not_judged"}


def test_crashes_and_hangs_are_scored_per_test(fixture_catalog: Catalog) -> None:
    zoo = fixture_catalog.get("zoo")
    result = grade_exercise(Submission("zoo", {"zoo.py": zoo.path / "zoo.py"}, zoo.path), zoo)
    verdicts = {t.name: t.verdict for t in result.tests}
    assert verdicts["test_exits"] == "crash" and verdicts["test_segfaults"] == "crash"
    assert verdicts["test_spins_in_c"] == "timeout"
    assert verdicts["test_after_everything"] == "passed"
    assert result.points == sum(t.points for t in result.tests if t.verdict == "passed")
    assert "4 processes" in result.message


def test_grade_submission_and_json_round_trip(fixture_catalog: Catalog) -> None:
    sub = submission("good")
    result = grade_submission(sub, [fixture_catalog.get("basic"), fixture_catalog.get("zoo")])
    assert [e.exercise for e in result.exercises] == ["basic", "zoo"]
    assert result.exercise("zoo").status == "not_submitted"  # type: ignore[union-attr]
    again = SubmissionResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert again == result


def test_replay_commands_name_the_submissions_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The test process records the failing schedule's seed; the grader builds the command
    from it, naming the submission's folder, the exercise and the failing case."""
    from grader.model import TestSpec
    from grader.sandbox import SandboxRun, TestRecord
    folder = tmp_path / "class" / "bo b"
    folder.mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    sub = Submission("bo b", {}, folder)

    @dataclasses.dataclass
    class Ex:
        id: str = "race_counter"
        tests: tuple = (TestSpec("test_x", 1.0, "x"), TestSpec("test_y", 1.0, "y"))

    run = SandboxRun((TestRecord("test_x[2]", "test_x", "race", "lost",
                                 {"trace": "t", "seed": 7, "engine": "controlled"}),
                      TestRecord("test_y", "test_y", "wrong", "no seed", {"trace": "t"})),
                     "", 0.0, 1)
    x, y = runner.score(Ex(), run, folder=runner.replay_location(sub))[0]  # type: ignore[arg-type]
    assert x.details["replay"] == "python -m grader replay 'class/bo b' race_counter test_x[2] --seed 7"
    assert list(x.details) == ["trace", "seed", "replay", "engine"]
    assert "replay" not in y.details  # no schedule recorded: nothing to replay
    # A folder outside the working directory keeps its absolute path.
    monkeypatch.chdir(tmp_path / "class" / "bo b")
    other = Submission("carl", {}, tmp_path / "elsewhere")
    assert f"replay {tmp_path / 'elsewhere'} race_counter" in \
        runner.score(Ex(), run, folder=runner.replay_location(other))[0][0].details["replay"]  # type: ignore[arg-type]