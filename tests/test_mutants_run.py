"""grader/mutants.py without the sandbox: a fake grading decides which mutants lose points,
and the figures, equivalents (valid, stale), the report and --check follow from it."""
from pathlib import Path

import pytest

from grader import mutants as run
from grader.catalog import load_exercise
from grader.model import ExerciseResult
from grader.model import TestOutcome as Outcome

ROOT = Path(__file__).resolve().parent.parent


def increment_locked(source: str) -> bool:
    body = source.split("def increment")[1].split("def value")[0]
    return "with self._lock:" in body


def fake_grading(survives):
    """grade_exercise stand-in: a mutant for which SURVIVES(source) is true keeps its
    points, any other loses them all to a race."""
    def grade(submission, exercise):
        source = next(iter(submission.files.values())).read_text()
        kept = survives(source)
        test = Outcome("test_two_threads_lose_no_increment", "t", 10, 10 if kept else 0,
                           "passed" if kept else "race", "" if kept else "lost 2 of 6 increments")
        return ExerciseResult(exercise.id, exercise.title, 10, test.points, (test,))
    return grade


@pytest.fixture
def counter():
    return load_exercise(ROOT / "exercises" / "race_counter", ROOT / "solutions")


def test_figures_equivalents_and_stale_entries(tmp_path, monkeypatch, counter):
    # Mutants that keep `with self._lock:` in increment() survive the fake grading.
    monkeypatch.setattr(run, "grade_exercise", fake_grading(increment_locked))
    generated = run.generate(counter, ROOT / "solutions")
    survivors = [m for m in generated if increment_locked(m.source)]
    assert survivors and len(survivors) < len(generated)
    (tmp_path / "race_counter").mkdir()
    first = survivors[0]
    (tmp_path / "race_counter" / "equivalent.yaml").write_text(
        f'"{first.id}":\n  change: "{first.description.replace(chr(34), chr(92) + chr(34))}"\n  why: "because"\n'
        '"drop_lock:Nowhere:1":\n  change: "gone"\n  why: "stale"\n')
    (fig,) = run.grade_all([counter], ROOT / "solutions", tmp_path, jobs=2)
    assert [g.mutant.id for g in fig.survivors] == [m.id for m in survivors[1:]]
    assert fig.killed == len(generated) - len(survivors)
    assert fig.stale == ["drop_lock:Nowhere:1"]
    lines = run.summary_lines([fig])
    assert any(line.startswith("race_counter") and f"{fig.killed:>8}" in line for line in lines)
    assert any("stale equivalent.yaml entry: drop_lock:Nowhere:1" in line for line in lines)
    report = run.report_markdown([fig])
    assert "lost 2 of 6 increments" in report and "equivalent: because" in report


def test_bad_equivalent_file_is_a_clear_error(tmp_path):
    (tmp_path / "equivalent.yaml").write_text('"x": "no reason given"\n')
    with pytest.raises(ValueError, match="expected a mapping of mutant id"):
        run.read_equivalents(tmp_path)


def test_check_fails_on_an_undeclared_survivor(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(run, "grade_exercise", fake_grading(lambda source: True))  # every mutant survives
    code = run.main(["--exercise", "race_counter", "--mutants", str(tmp_path), "--check",
                     "--report", str(tmp_path / "m.md")])
    out = capsys.readouterr().out
    assert code == 1 and "race_counter" in out and (tmp_path / "m.md").is_file()
    assert run.main(["--exercise", "no_such_exercise"]) == 2
