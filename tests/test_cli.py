"""The command line: exit statuses, one-line errors, and what a grading run writes.

Grading itself is replaced by a stand-in runner here, so these tests say what the CLI does
with results (files, summary, resilience to a crash) whatever the runner's state.
"""
from __future__ import annotations

import json
import subprocess
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from report_samples import RACE, demo_results

import grader
import grader.catalog
from grader import cli
from grader.report import summary
from grader.model import ExerciseResult, SubmissionResult, TestOutcome as Outcome

REPO = Path(__file__).resolve().parent.parent


def make_catalog(root: Path, yaml_text: str | None = None) -> Path:
    """A one-exercise catalogue: race_counter with two hidden tests."""
    folder = root / "exercises" / "race_counter"
    (folder / "hidden").mkdir(parents=True)
    (folder / "counter.py").write_text("class Counter: ...\n")
    (folder / "hidden" / "test_counter.py").write_text(
        "def test_no_lost_updates(): ...\ndef test_lock_is_shared(): ...\n")
    (folder / "exercise.yaml").write_text(yaml_text or (
        "id: race_counter\ntitle: Fix the race\ntopics: [race conditions, mutex]\n"
        "files: [counter.py]\ntests:\n"
        "  test_no_lost_updates: {points: 6, title: No increment is lost}\n"
        "  test_lock_is_shared: {points: 4, title: All threads share one lock}\n"))
    return root / "exercises"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err: str, *fragments: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("grader: error: ") and "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0]


# ---------------------------------------------------------------- bad input

def test_no_such_path_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    catalog = make_catalog(tmp_path)
    code, _, err = run(capsys, "grade", str(tmp_path / "nope"), "--exercises", str(catalog))
    assert code == 2
    one_line_error(err, "nope", "no such file or folder")


def test_unknown_exercise_id(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    catalog = make_catalog(tmp_path)
    code, _, err = run(capsys, "grade", str(tmp_path), "--exercises", str(catalog),
                       "--exercise", "race_countr")
    assert code == 2
    one_line_error(err, "unknown exercise 'race_countr'", "race_counter")


@pytest.mark.parametrize("command", [["check"], ["grade", "."],
                                     ["replay", ".", "race_counter", "test_x", "--seed", "1"]])
def test_malformed_exercise_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                 command: list[str]) -> None:
    catalog = make_catalog(tmp_path, "id: race_counter\ntitle: [unclosed\n")
    code, _, err = run(capsys, *command, "--exercises", str(catalog))
    assert code == 2
    one_line_error(err, "exercise.yaml", "not valid YAML")


def test_nothing_that_looks_like_a_submission(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("grader.submissions")
    catalog = make_catalog(tmp_path)
    empty = tmp_path / "empty"
    (empty / "someone").mkdir(parents=True)
    (empty / "someone" / "notes.txt").write_text("hello")
    code, _, err = run(capsys, "grade", str(empty), "--exercises", str(catalog))
    assert code == 2
    one_line_error(err, "submission")


def test_a_real_process_exits_2_without_traceback(tmp_path: Path) -> None:
    catalog = make_catalog(tmp_path)
    done = subprocess.run([sys.executable, "-m", "grader", "grade", "nope", "--exercises",
                           str(catalog)], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 2
    one_line_error(done.stderr, "nope: no such file or folder")


def test_check_lists_the_catalogue(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "check", "--exercises", str(make_catalog(tmp_path)))
    assert code == 0 and not err
    first = out.splitlines()[0].split()
    assert first[:4] == ["race_counter", "Fix", "the", "race"]
    assert "10 points" in out and "2 tests" in out and "1 exercise, 10 points in all" in out


# ---------------------------------------------------------------- grading, with a stand-in runner

@dataclass(frozen=True)
class FakeSubmission:
    student: str
    files: dict[str, Path] = field(default_factory=dict)
    root: Path = Path(".")

    def refusal(self, names: object) -> None:  # as grader.submissions.Submission: none refused
        return None


def outcome(passed: bool) -> Outcome:
    if passed:
        return Outcome("test_no_lost_updates", "No increment is lost", 6, 6, "passed")
    return Outcome("test_no_lost_updates", "No increment is lost", 6, 0, "race",
                   "lost 3 of 8 increments with 2 threads", RACE)


def fake_result(student: str, passed: bool = True) -> ExerciseResult:
    shared = Outcome("test_lock_is_shared", "All threads share one lock", 4, 4, "passed")
    return ExerciseResult("race_counter", "Fix the race", 10, 10 if passed else 4,
                          (outcome(passed), shared))


@pytest.fixture
def stand_in(monkeypatch: pytest.MonkeyPatch) -> types.SimpleNamespace:
    """Fake grader.submissions and grader.runner: ann and cy pass, bob fails, bea crashes."""
    calls = types.SimpleNamespace(replay_seed=None)
    students = ["ann", "bea", "bob", "cy"]
    submissions = types.ModuleType("grader.submissions")
    submissions.SubmissionError = type("SubmissionError", (Exception,), {})
    submissions.discover = lambda path, catalog, layout=None: [
        FakeSubmission(s) for s in students if path.name in ("class", s)]
    runner = types.ModuleType("grader.runner")

    def grade_submission(sub: FakeSubmission, exercises: list, *, gate: object = None) -> SubmissionResult:
        if sub.student == "bea":
            raise RuntimeError("the sandbox fell over")
        return SubmissionResult(sub.student, (fake_result(sub.student, sub.student != "bob"),))

    def grade_exercise(sub: FakeSubmission, exercise: object, *,
                       replay_seed: int | None = None) -> ExerciseResult:
        calls.replay_seed = replay_seed
        return fake_result(sub.student, passed=False)

    runner.grade_submission, runner.grade_exercise = grade_submission, grade_exercise
    for name, module in (("submissions", submissions), ("runner", runner)):
        monkeypatch.setitem(sys.modules, f"grader.{name}", module)
        monkeypatch.setattr(grader, name, module, raising=False)
    return calls


def test_grade_writes_every_report_and_survives_a_crash(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], stand_in: object) -> None:
    catalog = make_catalog(tmp_path)
    (tmp_path / "class").mkdir()
    out = tmp_path / "out"
    code, stdout, err = run(capsys, "grade", str(tmp_path / "class"), "--exercises",
                            str(catalog), "--out", str(out))
    assert code == 0
    assert "internal error grading bea: RuntimeError: the sandbox fell over" in err
    for student in ("ann", "bea", "bob", "cy"):
        assert (out / student / "results.json").is_file()
        assert (out / student / "report.html").is_file()
    for name in ("grades.csv", "class.json", "index.html"):
        assert (out / name).is_file()
    assert (out / "grades.csv").read_text().splitlines() == [
        "student,id,name,email,section,race_counter,total,overridden", "ann,ann,,,,10,10,",
        "bea,bea,,,,0,0,", "bob,bob,,,,4,4,", "cy,cy,,,,10,10,"]
    bea = json.loads((out / "bea" / "results.json").read_text())
    assert bea["score"] == 0 and "sandbox fell over" in bea["tests"][0]["output"]
    # The summary table, in plain text since stdout is not a terminal here.
    table = stdout.splitlines()
    assert table[0].split() == ["student", "race_counter", "total", "lost", "points", "to"]
    assert any(line.split()[:3] == ["bob", "4/10", "4/10"] for line in table)
    assert "\x1b[" not in stdout and "Reports:" in stdout and "index.html" in stdout


def test_replay_prints_the_whole_story(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       stand_in: types.SimpleNamespace) -> None:
    catalog = make_catalog(tmp_path)
    (tmp_path / "bob").mkdir()
    code, out, _ = run(capsys, "replay", str(tmp_path / "bob"), "race_counter",
                       "test_no_lost_updates", "--seed", "1234", "--exercises", str(catalog))
    assert code == 0 and stand_in.replay_seed == 1234
    assert "race found, 0/6 points" in out
    assert "lost 3 of 8 increments with 2 threads" in out
    assert "overwrites T2's increment" in out and "python -m grader replay" in out


def test_replay_of_an_unknown_test(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                   stand_in: object) -> None:
    catalog = make_catalog(tmp_path)
    (tmp_path / "bob").mkdir()
    code, _, err = run(capsys, "replay", str(tmp_path / "bob"), "race_counter", "test_nope",
                       "--seed", "1", "--exercises", str(catalog))
    assert code == 2
    one_line_error(err, "no hidden test 'test_nope'", "test_no_lost_updates")


def test_replay_needs_one_student(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                  stand_in: object) -> None:
    catalog = make_catalog(tmp_path)
    (tmp_path / "class").mkdir()
    code, _, err = run(capsys, "replay", str(tmp_path / "class"), "race_counter",
                       "test_no_lost_updates", "--seed", "1", "--exercises", str(catalog))
    assert code == 2
    one_line_error(err, "holds 4 submissions")


def test_summary_plain_table_aligns_and_says_why() -> None:
    text = summary.plain(demo_results())
    lines = text.splitlines()
    assert lines[0].split()[:5] == ["student", "race_counter", "transfer_deadlock",
                                    "parallel_histogram", "total"]
    assert set(lines[1]) <= {"-", " "}
    emil = next(line for line in lines if line.startswith("emil"))
    assert "missing" in emil and "not submitted" in emil
    # Scores are right-aligned under their heading.
    end = lines[0].index("total") + len("total")
    for line in lines[2:]:
        assert line[end - 1] != " " and line[end:end + 1] in ("", " "), line


def test_default_catalogue_is_beside_the_package() -> None:
    assert cli.DEFAULT_EXERCISES == REPO / "exercises"


def test_solutions_and_exercises_name_the_catalogue_folders(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    catalog = grader.catalog.load_catalog(make_catalog(tmp_path))
    (tmp_path / "solutions").mkdir()
    monkeypatch.chdir(tmp_path / "exercises")  # where neither name exists as typed
    assert cli._resolve("exercises", catalog) == catalog.root
    assert cli._resolve("solutions", catalog) == tmp_path / "solutions"
    with pytest.raises(cli.UsageError, match="no such file or folder"):
        cli._resolve("solution", catalog)


# ---------------------------------------------------------------- the real thing

@pytest.mark.slow
def test_demo_class_shows_its_typical_outcomes(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """The demo class graded for real on its two threaded exercises (the timed histogram
    exercise is left to `make grade`): each student shows the outcome demo/README.md says."""
    pytest.importorskip("grader.runner")
    out = tmp_path / "reports"
    code, stdout, _ = run(capsys, "grade", str(REPO / "demo" / "class"), "--out", str(out),
                          "--exercise", "race_counter", "--exercise", "transfer_deadlock")
    assert code == 0, stdout
    results = {r.student: r for r in cli_results(out)}
    verdicts = {name: {ex.exercise: {t.verdict for t in ex.tests} - {"passed"}
                       for ex in r.exercises} for name, r in results.items()}
    assert verdicts == {
        "ada": {"race_counter": set(), "transfer_deadlock": set()},
        "boris": {"race_counter": {"race"}, "transfer_deadlock": set()},
        "chen": {"race_counter": set(), "transfer_deadlock": {"deadlock"}},
        "dana": {"race_counter": set(), "transfer_deadlock": set()},
        "emil": {"race_counter": {"not_submitted"}, "transfer_deadlock": set()},
        "fatima": {"race_counter": set(), "transfer_deadlock": {"import_error"}},
    }
    # The replay command a report gives reproduces the race.
    race = next(t for t in results["boris"].exercise("race_counter").tests if t.verdict == "race")
    seed = race.details["seed"]
    code, stdout, _ = run(capsys, "replay", str(REPO / "demo" / "class" / "boris"),
                          "race_counter", race.name, "--seed", str(seed))
    assert code == 0 and "race found" in stdout and "Interleaving:" in stdout


def cli_results(out: Path) -> list[SubmissionResult]:
    from grader.report.exports import read_class_json
    return read_class_json(out / "class.json")


def test_a_broken_exercise_folder_does_not_stop_grading_the_others(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], stand_in: object) -> None:
    catalog = make_catalog(tmp_path)
    (catalog / "half_written").mkdir()  # an author's folder with no exercise.yaml yet
    (tmp_path / "class").mkdir()
    code, _, err = run(capsys, "grade", str(tmp_path / "class"), "--exercises", str(catalog),
                       "--out", str(tmp_path / "out"))
    assert code == 0
    assert "grader: warning:" in err and "half_written" in err and "not graded" in err
    assert (tmp_path / "out" / "ann" / "results.json").is_file()
    code, _, err = run(capsys, "check", "--exercises", str(catalog))
    assert code == 2  # `check` stays strict: it is how authors find the problem
    one_line_error(err, "half_written", "no exercise.yaml")
