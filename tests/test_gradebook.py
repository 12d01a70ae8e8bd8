"""The gradebook: results keyed by what decided them, provisional results regraded,
reports rebuilt from it alone, and a killed grader resumed without losing a result."""
from __future__ import annotations

import csv
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import psutil
import pytest
from report_samples import demo_results

from grader import cli
from grader.gradebook import Gradebook, GradebookError, Key, is_final, regrade_reason
from grader import model
from grader.model import ExerciseResult

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures"


def cli_points(points: float) -> str:
    return str(int(points)) if float(points).is_integer() else f"{points:.2f}"


def key(result: ExerciseResult, student: str = "ann", **changes: str) -> Key:
    base = Key(student, result.exercise, "f" * 64, "e" * 16, "0.1.0")
    return replace(base, **changes)


def sample() -> ExerciseResult:
    return demo_results()[1].exercises[0]  # boris on race_counter: a race, with details


def test_a_stored_result_comes_back_only_under_its_exact_key(tmp_path: Path) -> None:
    with Gradebook.open(tmp_path / "g.sqlite") as book:
        result = sample()
        book.store(result, key(result))
        assert book.lookup(key(result)) == result
        for field, value in [("student", "bob"), ("file_hash", "0" * 64),
                             ("exercise_hash", "1" * 16), ("grader_version", "9.9")]:
            assert book.lookup(key(result, **{field: value})) is None, field


def test_storing_again_replaces_the_students_result(tmp_path: Path) -> None:
    with Gradebook.open(tmp_path / "g.sqlite") as book:
        first = sample()
        book.store(first, key(first))
        better = replace(first, points=first.max_points)
        book.store(better, key(first, file_hash="2" * 64))
        assert book.lookup(key(first)) is None
        assert [r.exercises for r in book.all_results()] == [(better,)]


def test_grader_errors_and_a_busy_machine_are_shown_but_regraded(tmp_path: Path) -> None:
    ok = sample()
    error = replace(ok, exercise="transfer_deadlock", status="error", message="the grader failed")
    busy_test = model.TestOutcome("test_speed", "Speeds up", 5, 5, "passed", "",
                                  judged=False, not_judged_reason="busy")
    busy = replace(ok, exercise="parallel_histogram", tests=(busy_test, *ok.tests))
    assert is_final(ok) and not is_final(error) and not is_final(busy)
    assert regrade_reason(busy) == "not judged: the machine was busy"
    # A pass judged on in-kernel evidence whose wall-clock note says "not counted: the
    # machine was busy" is final: whether it was judged is a field, not a phrase.
    noted = model.TestOutcome("test_parallel", "In parallel", 3, 3, "passed",
                              "2 processes computed at the same time",
                              {"speedup": {"counted": False,
                                           "note": "not judged: the machine was busy"}})
    assert is_final(replace(ok, tests=(noted, *ok.tests)))
    # What no run on this machine can judge (one usable core) is final too.
    one_core = replace(busy_test, not_judged_reason="one_core")
    assert is_final(replace(ok, tests=(one_core, *ok.tests)))
    unjudged = replace(ok, tests=tuple(replace(t, verdict="not_judged", points=0.0)
                                       for t in ok.tests))
    one_unjudged = replace(ok, tests=(unjudged.tests[0], *ok.tests[1:]))
    assert not is_final(unjudged) and is_final(one_unjudged)
    with Gradebook.open(tmp_path / "g.sqlite") as book:
        for r in (ok, error, busy):
            book.store(r, key(r))
        assert book.lookup(key(ok)) == ok
        assert book.lookup(key(error)) is None and book.lookup(key(busy)) is None
        shown = book.all_results()[0]
        assert {e.exercise for e in shown.exercises} == {ok.exercise, "transfer_deadlock",
                                                        "parallel_histogram"}


def test_why_a_job_is_graded_again_comes_from_the_stored_row(tmp_path: Path) -> None:
    ok = sample()
    busy = replace(ok, tests=(replace(ok.tests[0], judged=False, not_judged_reason="budget"),
                              *ok.tests[1:]))
    with Gradebook.open(tmp_path / "g.sqlite") as book:
        assert book.why_graded(key(ok)) == "new"
        book.store(ok, key(ok))
        assert book.why_graded(key(ok, file_hash="1" * 64)) == "the submitted file changed"
        assert book.why_graded(key(ok, exercise_hash="2" * 16)) == "the exercise changed"
        assert book.why_graded(key(ok, grader_version="9")) == "the grader changed"
        book.store(busy, key(busy))
        assert book.lookup(key(busy)) is None
        assert book.why_graded(key(busy)) == ("not judged: the time budget ran out before "
                                             "the measurement was sure")


def test_all_results_groups_by_student_in_order(tmp_path: Path) -> None:
    with Gradebook.open(tmp_path / "g.sqlite") as book:
        for r in reversed(demo_results()):
            for ex in reversed(r.exercises):
                book.store(ex, key(ex, r.student))
        assert book.students() == sorted(r.student for r in demo_results())
        back = {r.student: r for r in book.all_results()}
        for r in demo_results():
            # Exercises come back in id order, which is the catalogue's order.
            assert back[r.student].exercises == tuple(sorted(r.exercises, key=lambda e: e.exercise))
        assert [r.student for r in book.all_results(["dana", "ada"])] == ["ada", "dana"]


def test_the_file_is_a_real_database_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "g.sqlite"
    with Gradebook.open(path) as book:
        book.store(sample(), key(sample()))
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("SELECT count(*) FROM results").fetchone()[0] == 1


def test_not_a_gradebook_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junk = tmp_path / "g.sqlite"
    junk.write_text("not a database" * 100)
    with pytest.raises(GradebookError):
        Gradebook.open(junk)
    code = cli.main(["report", "--out", str(tmp_path / "none")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("grader: error: ") and "no gradebook" in err


def test_report_rebuilds_everything_from_the_gradebook(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "reports"
    with Gradebook.open(out / "gradebook.sqlite") as book:
        book.start_run(2, {"python": "3.11.9", "cores": "2", "start_method": "fork",
                           "load": "0.10 / 0.20 / 0.30"})
        for r in demo_results():
            for ex in r.exercises:
                book.store(ex, key(ex, r.student))
        book.finish_run()
    assert cli.main(["report", "--out", str(out)]) == 0
    assert "Rebuilt the reports of 6 students" in capsys.readouterr().out
    for r in demo_results():
        assert (out / r.student / "report.html").is_file()
        assert (out / r.student / "results.json").is_file()
    rows = list(csv.reader((out / "grades.csv").open()))
    assert rows[0] == ["student", "id", "name", "email", "section", "parallel_histogram",
                       "race_counter", "transfer_deadlock", "total", "overridden"]
    assert {row[0]: row[-2] for row in rows[1:]} == {
        r.student: cli_points(r.points) for r in demo_results()}
    index = (out / "index.html").read_text()
    # The machine of the grading run, not of the one rebuilding the pages.
    assert "0.10 / 0.20 / 0.30" in index and "fork" in index
    assert "Measured speedups" in index


# ---------------------------------------------------------------- killed and resumed

def _stored(path: Path) -> int:
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            return db.execute("SELECT count(*) FROM results").fetchone()[0]
        finally:
            db.close()
    except sqlite3.OperationalError:  # not created yet
        return 0


def _grade(klass: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "grader", "grade", str(klass), "--exercises",
            str(FIXTURES / "exercises"), "--exercise", "basic", "--out", str(out), "--jobs", "1"]


def _class_of_good_students(tmp_path: Path, count: int = 6) -> tuple[list[str], Path]:
    """A class folder of COUNT students who all hand in the fixture's good file."""
    students = [f"s{i:02}" for i in range(count)]
    klass = tmp_path / "class"
    for s in students:
        (klass / s).mkdir(parents=True)
        shutil.copy(FIXTURES / "students" / "basic" / "good" / "basic.py", klass / s)
    return students, klass


def _wait_for_stored_results(proc: subprocess.Popen, book: Path, count: int) -> None:
    """Until the running grader has committed COUNT results; it must still be running."""
    deadline = time.monotonic() + 120
    while _stored(book) < count and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before it could be stopped"


def test_a_killed_run_loses_nothing_and_the_next_grades_only_the_rest(tmp_path: Path) -> None:
    students, klass = _class_of_good_students(tmp_path)
    out = tmp_path / "out"
    book = out / "gradebook.sqlite"
    proc = subprocess.Popen(_grade(klass, out), cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        _wait_for_stored_results(proc, book, 2)
        # The test processes it started, to clean up after the kill (they are ours).
        children = psutil.Process(proc.pid).children(recursive=True)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    for child in children:
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass
    kept = _stored(book)
    assert 2 <= kept < len(students)
    with Gradebook.open(book) as gb:
        before = {(p["student"], p["run_id"]) for p in gb.provenance()}
        assert all(r.exercises[0].points == 4 for r in gb.all_results())

    again = subprocess.run(_grade(klass, out), cwd=REPO, capture_output=True, text=True,
                           timeout=300)
    assert again.returncode == 0, again.stderr
    assert (f"{len(students) - kept} of {len(students)} jobs graded (1 at a time), "
            f"{kept} unchanged taken from the gradebook") in again.stdout
    with Gradebook.open(book) as gb:
        after = gb.provenance()
        assert len(after) == len(students)
        # What the killed run finished is still its own: not graded a second time.
        assert before <= {(p["student"], p["run_id"]) for p in after}
        assert all(r.exercises[0].points == 4 for r in gb.all_results())
    assert len(list(csv.reader((out / "grades.csv").open()))) == len(students) + 1


def test_sigterm_stops_cleanly_keeping_and_publishing_what_finished(tmp_path: Path) -> None:
    students, klass = _class_of_good_students(tmp_path)
    out = tmp_path / "out"
    book = out / "gradebook.sqlite"
    proc = subprocess.Popen(_grade(klass, out), cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_stored_results(proc, book, 2)
        descendants = psutil.Process(proc.pid).children(recursive=True)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "grader: interrupted: every finished result is kept" in err and "Traceback" not in err
    kept = _stored(book)
    assert 2 <= kept < len(students)
    published = [s for s in students if (out / s / "results.json").is_file()]
    assert len(published) == kept, (published, kept)
    assert (out / "grades.csv").is_file() and (out / "index.html").is_file()
    time.sleep(0.5)
    alive = [p for p in descendants if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not alive, f"test processes left running after SIGTERM: {alive}"
