"""The gradebook: every exercise result of a class, in one SQLite file.

A result is keyed by what decided it: the student, the exercise, a hash of the submitted
file(s), a hash of the exercise (yaml, hidden tests, given files) and the grader's
version. A later run looks each job up by that key and grades only what changed; a result
whose key no longer matches is simply replaced when the job is graded again.

Durability: every result is committed on its own as soon as it is stored, in WAL mode
with synchronous=FULL, so a run stopped by Ctrl-C, SIGKILL or a power cut keeps every
result it finished and the next run resumes with the rest.

Some results are stored but not final: a grader failure (status "error"), a test whose
verdict was not judged for a reason another run may settle (TestOutcome.judged and
not_judged_reason: the machine was busy, the time budget ran out), and a run where no
test was judged at all say nothing sure about the student. They are kept so the
reports show them, and regraded on the next run (`lookup` does not return them).

    book = Gradebook.open(out / "gradebook.sqlite")
    key = Key(student, exercise.id, file_hash, exercise.content_hash(), grader.__version__)
    result = book.lookup(key) or grade(...)
    book.store(result, key)
    book.all_results()  # -> list[SubmissionResult], for reports and exports
"""
from __future__ import annotations

import dataclasses
import json
import logging
import sqlite3
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Iterator

from grader.model import NOT_JUDGED, ExerciseResult, SubmissionResult
from grader.roster import Person

log = logging.getLogger(__name__)

FILENAME = "gradebook.sqlite"
SCHEMA_VERSION = 1

# One row per (student, exercise): the gradebook holds current grades, not a history.
# Hashes sit in columns (not only in the JSON) so a lookup is one indexed read.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    started     REAL NOT NULL,      -- unix time
    finished    REAL,               -- NULL: still running, or interrupted
    jobs        INTEGER NOT NULL,   -- parallel jobs (--jobs)
    machine     TEXT NOT NULL       -- JSON: python, cores, start method, load average...
);
CREATE TABLE IF NOT EXISTS results (
    student         TEXT NOT NULL,
    exercise        TEXT NOT NULL,
    file_hash       TEXT NOT NULL,
    exercise_hash   TEXT NOT NULL,
    grader_version  TEXT NOT NULL,
    final           INTEGER NOT NULL,   -- 0: shown, but regraded on the next run
    points          REAL NOT NULL,
    max_points      REAL NOT NULL,
    status          TEXT NOT NULL,
    run_id          INTEGER REFERENCES runs(id),
    stored          REAL NOT NULL,      -- unix time
    result          TEXT NOT NULL,      -- the ExerciseResult as JSON
    PRIMARY KEY (student, exercise)
);
-- Instructor overrides (grader/overrides.py): kept apart from results, which a regrade
-- replaces, so an override outlives every regrade until it is cleared.
CREATE TABLE IF NOT EXISTS overrides (
    student     TEXT NOT NULL,
    exercise    TEXT NOT NULL,
    points      REAL NOT NULL,
    why         TEXT NOT NULL,
    stored      REAL NOT NULL,      -- unix time
    PRIMARY KEY (student, exercise)
);
-- Who each student is on the platform or the roster (grader/roster.py), for the exports.
CREATE TABLE IF NOT EXISTS people (
    student     TEXT PRIMARY KEY,
    person      TEXT NOT NULL       -- JSON: a roster.Person
);
"""


class GradebookError(Exception):
    """The file is not a gradebook this grader can read; one line, for the instructor."""


@dataclass(frozen=True)
class Key:
    """Everything that decides a grade. A stored result is reused only if all of it matches."""

    student: str
    exercise: str
    file_hash: str  # runner.hash_files of the submitted file(s); "" when not submitted
    exercise_hash: str  # Exercise.content_hash()
    grader_version: str  # grader.__version__


def is_final(result: ExerciseResult) -> bool:
    """Whether a result judges the student, or only says the grader or the machine could not."""
    return regrade_reason(result) is None


def regrade_reason(result: ExerciseResult) -> str | None:
    """Why the next run grades this result again (None: it is final), from its fields.

    A grader failure is the grader's; a verdict the machine kept from being judged (a test
    with `judged` False whose reason another run may settle: the machine was busy, the
    time budget ran out) is the machine's: both are worth another try rather than a grade
    frozen by chance. A verdict judged on in-kernel evidence is final whatever notes it
    carries (a wall-clock speedup shown but not counted is such a note).
    """
    if result.status == "error":
        return "the grader failed"
    # Not one test judged (the test process died before any started): as likely the
    # grader's or the machine's doing as the student's, and cheap to try again.
    if result.tests and all(not t.judged for t in result.tests):
        return "no test was judged"
    retried = [t for t in result.tests if t.retry]
    if retried:
        why = dict.fromkeys(NOT_JUDGED[t.not_judged_reason][0] for t in retried)
        return f"not judged: {'; '.join(why)}"
    return None


class Gradebook:
    """A connection to one gradebook file. Use from one thread (the one that opened it)."""

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        self.path = path
        self._db = connection
        self.run_id: int | None = None

    # ------------------------------------------------------------ opening

    @classmethod
    def open(cls, path: Path | str, *, create: bool = True) -> "Gradebook":
        path = Path(path)
        if not create and not path.is_file():
            raise GradebookError(f"{path}: no gradebook here (grade a class first)")
        path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we commit explicitly, one result per transaction.
        db = sqlite3.connect(path, timeout=30.0, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            # FULL: a committed result survives a power cut, not only a killed process.
            db.execute("PRAGMA synchronous=FULL")
            db.executescript(_SCHEMA)
            row = db.execute("SELECT value FROM meta WHERE name = 'schema'").fetchone()
            if row is None:
                db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            elif int(row[0]) != SCHEMA_VERSION:
                raise GradebookError(f"{path}: gradebook schema {row[0]}, this grader reads "
                                     f"{SCHEMA_VERSION}; grade into a new --out folder")
        except sqlite3.DatabaseError as exc:
            db.close()
            raise GradebookError(f"{path}: not a gradebook ({exc})") from None
        return cls(path, db)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "Gradebook":
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # ------------------------------------------------------------ runs

    def start_run(self, jobs: int, machine: dict[str, Any]) -> int:
        """Record a grading run; the results stored from now on belong to it."""
        cur = self._db.execute("INSERT INTO runs (started, jobs, machine) VALUES (?, ?, ?)",
                               (time.time(), jobs, json.dumps(machine)))
        self.run_id = int(cur.lastrowid or 0)
        return self.run_id

    def finish_run(self, machine: dict[str, Any] | None = None) -> None:
        """Mark the current run complete (with the machine as it was at the end, if given)."""
        if self.run_id is None:
            return
        if machine is None:
            self._db.execute("UPDATE runs SET finished = ? WHERE id = ?", (time.time(), self.run_id))
        else:
            self._db.execute("UPDATE runs SET finished = ?, machine = ? WHERE id = ?",
                             (time.time(), json.dumps(machine), self.run_id))

    def last_run(self) -> dict[str, Any] | None:
        """The latest run: {id, started, finished, jobs, machine}, or None before any."""
        row = self._db.execute("SELECT id, started, finished, jobs, machine FROM runs "
                               "ORDER BY id DESC LIMIT 1").fetchone()
        if row is None:
            return None
        return {"id": row[0], "started": row[1], "finished": row[2], "jobs": row[3],
                "machine": json.loads(row[4])}

    # ------------------------------------------------------------ results

    def lookup(self, key: Key) -> ExerciseResult | None:
        """The stored result for exactly this key, if it is final; None means: grade it."""
        row = self._db.execute(
            "SELECT result FROM results WHERE student = ? AND exercise = ? AND file_hash = ? "
            "AND exercise_hash = ? AND grader_version = ? AND final = 1",
            (key.student, key.exercise, key.file_hash, key.exercise_hash,
             key.grader_version)).fetchone()
        return self._parsed(key.student, key.exercise, row[0]) if row else None

    def why_graded(self, key: Key) -> str:
        """Why a job the gradebook did not answer is graded: what the stored row says."""
        row = self._db.execute(
            "SELECT file_hash, exercise_hash, grader_version, final, result FROM results "
            "WHERE student = ? AND exercise = ?", (key.student, key.exercise)).fetchone()
        if row is None:
            return "new"
        file_hash, exercise_hash, version, final, text = row
        if file_hash != key.file_hash:
            return "the submitted file changed"
        if exercise_hash != key.exercise_hash:
            return "the exercise changed"
        if version != key.grader_version:
            return "the grader changed"
        if not final:
            try:
                reason = regrade_reason(ExerciseResult.from_dict(json.loads(text)))
            except (ValueError, TypeError, KeyError):
                reason = None
            return reason or "the stored result was not final"
        return "forced"

    def store(self, result: ExerciseResult, key: Key) -> None:
        """Store (or replace) the student's result on the exercise, committed at once."""
        if result.exercise != key.exercise:
            raise ValueError(f"result of {result.exercise} stored under {key.exercise}")
        self._db.execute(
            "INSERT OR REPLACE INTO results (student, exercise, file_hash, exercise_hash, "
            "grader_version, final, points, max_points, status, run_id, stored, result) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (key.student, key.exercise, key.file_hash, key.exercise_hash, key.grader_version,
             int(is_final(result)), result.points, result.max_points, result.status,
             self.run_id, time.time(), json.dumps(result.to_dict(), default=str)))

    def students(self) -> list[str]:
        return [row[0] for row in self._db.execute(
            "SELECT DISTINCT student FROM results ORDER BY student")]

    def all_results(self, students: list[str] | None = None) -> list[SubmissionResult]:
        """Every student's results (or only those of STUDENTS), exercises in id order,
        which is also the catalogue's order (it lists exercise folders sorted)."""
        wanted = None if students is None else set(students)
        grouped: dict[str, list[ExerciseResult]] = {}
        overrides = self.overrides()
        for student, exercise, text in list(self._rows()):
            if wanted is None or student in wanted:
                result = self._parsed(student, exercise, text)
                if result is None:
                    continue
                said = overrides.get((student, result.exercise))
                if said is not None:  # the instructor's points, the computed ones beside them
                    result = dataclasses.replace(result, points=said[0], override_why=said[1],
                                                 computed_points=result.points)
                grouped.setdefault(student, []).append(result)
        return [SubmissionResult(s, tuple(exs)) for s, exs in grouped.items()]

    def set_override(self, student: str, exercise: str, points: float, why: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO overrides VALUES (?, ?, ?, ?, ?)",
                         (student, exercise, float(points), why, time.time()))

    def clear_override(self, student: str, exercise: str) -> bool:
        cur = self._db.execute("DELETE FROM overrides WHERE student = ? AND exercise = ?",
                               (student, exercise))
        return cur.rowcount > 0

    def overrides(self) -> dict[tuple[str, str], tuple[float, str]]:
        """(student, exercise) -> (points, why), for every override in force."""
        return {(s, e): (p, w) for s, e, p, w in self._db.execute(
            "SELECT student, exercise, points, why FROM overrides")}

    def _rows(self) -> Iterator[tuple[str, str, str]]:
        yield from self._db.execute(
            "SELECT student, exercise, result FROM results ORDER BY student, exercise")

    def _parsed(self, student: str, exercise: str, text: Any) -> ExerciseResult | None:
        """The stored result, or None when the row cannot be read (edited by hand, written
        by a broken tool): such a row is moved to the table set_aside, with a warning, so
        the job is graded again and the reports go on without it."""
        try:
            result = ExerciseResult.from_dict(json.loads(text))
            if not isinstance(result, ExerciseResult) or result.exercise != exercise:
                raise ValueError(f"the row holds a result of {getattr(result, 'exercise', '?')!r}")
            return result
        except Exception as exc:  # whatever a malformed row makes from_dict raise
            reason = f"{type(exc).__name__}: {exc}"[:300]
            log.warning("gradebook: the result of %s on %s cannot be read (%s); set aside in the "
                        "table set_aside, and graded again", student, exercise, reason)
            with self._db:
                self._db.execute("CREATE TABLE IF NOT EXISTS set_aside (student TEXT, exercise TEXT, "
                                 "result TEXT, reason TEXT, stored REAL)")
                self._db.execute("INSERT INTO set_aside VALUES (?, ?, ?, ?, ?)",
                                 (student, exercise, str(text), reason, time.time()))
                self._db.execute("DELETE FROM results WHERE student = ? AND exercise = ?",
                                 (student, exercise))
            return None

    def set_meta(self, name: str, value: Any) -> None:
        """Record a setting of the class (a JSON value) beside the schema version."""
        self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (name, json.dumps(value)))

    def meta(self, name: str, default: Any = None) -> Any:
        row = self._db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return json.loads(row[0]) if row else default

    def store_people(self, people: dict[str, Person]) -> None:
        """Record (or update) who each student is: what the latest run's layout and roster said."""
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR REPLACE INTO people (student, person) VALUES (?, ?)",
                                 [(s, json.dumps(p.to_dict())) for s, p in people.items()])

    def people(self) -> dict[str, Person]:
        """Student -> who they are, for every student a run described."""
        return {student: Person.from_dict(json.loads(text)) for student, text in
                self._db.execute("SELECT student, person FROM people ORDER BY student")}

    def durations(self) -> dict[str, float]:
        """Exercise id -> median seconds a grading of it took, over the results stored:
        what the progress bar's ETA expects of the next ones."""
        seen: dict[str, list[float]] = {}
        for exercise, seconds in self._db.execute(
                "SELECT exercise, json_extract(result, '$.duration') FROM results "
                "WHERE status = 'graded' AND json_valid(result)"):
            if isinstance(seconds, (int, float)) and seconds > 0:
                seen.setdefault(exercise, []).append(float(seconds))
        return {ex: statistics.median(values) for ex, values in seen.items()}

    def provenance(self) -> list[dict[str, Any]]:
        """Per stored result: its key, whether it is final, and the run that stored it."""
        cur = self._db.execute(
            "SELECT student, exercise, file_hash, exercise_hash, grader_version, final, "
            "run_id, status FROM results ORDER BY student, exercise")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur]
