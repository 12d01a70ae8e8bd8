"""The plain data that flows through the grader.

Everything here is a small frozen dataclass that serialises to JSON and back, so that
results can be stored, compared, resumed and rendered without side effects.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

# Why a test did not earn its points, in the course's words. The report groups by these.
VERDICTS = {
    "passed": "passed",
    "wrong": "wrong result",
    "race": "race found",
    "deadlock": "deadlock",
    "starvation": "starvation",
    "busy_wait": "busy waiting",
    "livelock": "livelock",
    "serial": "not parallel",
    "too_slow": "too slow",
    "timeout": "timeout",
    "crash": "crash",
    "error": "error",
    "import_error": "does not import",
    "not_submitted": "not submitted",
    "refused": "refused",  # found, not graded: a link out of the student's folder, a broken zip
    "not_judged": "not judged",
    "tampered": "tampered with the tests",
}

# The key under which a passing test's one-line speedup verdict (recorded with
# record_property("speedup", ...)) sits in its details: what that test concluded, not part
# of the measurement several tests may share.
SPEEDUP_VERDICT = "speedup verdict"

# Keys of TestOutcome.details that one part of the grader writes and another reads: named
# once here. Whatever else a test puts in its details is shown as a key/value list.
TRACE = "trace"  # the interleaving of a failing schedule (concurrency/explain.py)
CYCLE = "cycle"  # a deadlock's who-waits-for-whom, one line per thread
SEED = "seed"  # the seed of the schedule that failed: an int (concurrency/explore.py)
REPLAY = "replay"  # the command that runs that schedule again, built from SEED (runner.py)
ENGINE = "engine"  # which engine judged a thread test: "controlled" or "stress"
ENGINE_REASON = "engine_reason"  # why the stress engine judged it, when it did
SPEEDUP = "speedup"  # a timing test's measurement: numbers under stable keys
FIGURES = "figures"  # the figures a test measured: numbers under stable keys (report/figures.py)

# Why a test's verdict was not judged (TestOutcome.not_judged_reason), and whether another
# run could judge it. The gradebook reads `retry` (gradebook.is_final): a verdict the
# machine kept from being judged is graded again; one no run on this machine can judge is
# final, or every run would grade it again for nothing.
NOT_JUDGED = {
    # key: (what the summary says, retried on the next run)
    "busy": ("the machine was busy", True),
    "budget": ("the time budget ran out before the measurement was sure", True),
    "not_run": ("the test did not run", False),
    "one_core": ("this machine has a single usable core", False),
}


@dataclass(frozen=True)
class TestSpec:
    """A hidden test as exercise.yaml declares it."""

    name: str
    points: float
    title: str
    # A timing exercise's test whose verdict rests on measured time: graded in a test
    # process of its own, alone on the machine; the exercise's other tests run beside
    # other grading (grader/batch.py, grader/sandbox.py).
    measured: bool = False


@dataclass(frozen=True)
class TestOutcome:
    """What one hidden test concluded about one submission."""

    __test__ = False  # a result, not a test class for pytest to collect

    name: str
    title: str
    max_points: float
    points: float
    verdict: str  # a key of VERDICTS
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    duration: float = 0.0
    # Whether the verdict judged the submission. A test may pass without being judged
    # (the machine could not show what it measures; it passes rather than fail a student
    # for the machine): `judged` is False then, with a key of NOT_JUDGED saying why. Set
    # where the decision is made (the hidden test, or the runner for a test that did not
    # run); read by the gradebook, never guessed from the message.
    judged: bool = True
    not_judged_reason: str = ""

    @property
    def passed(self) -> bool:
        return self.verdict == "passed"

    def __post_init__(self) -> None:
        # A "not judged" verdict is never judged, whoever built the outcome.
        if self.verdict == "not_judged" and self.judged:
            object.__setattr__(self, "judged", False)
        if not self.judged and not self.not_judged_reason:
            object.__setattr__(self, "not_judged_reason", "not_run")

    @property
    def retry(self) -> bool:
        """Another run could judge what this one could not (the machine was busy...)."""
        return not self.judged and NOT_JUDGED.get(self.not_judged_reason, ("", True))[1]


@dataclass(frozen=True)
class ExerciseResult:
    """All the hidden tests of one exercise run against one student's file."""

    exercise: str
    title: str
    max_points: float
    points: float
    tests: tuple[TestOutcome, ...]
    status: str = "graded"  # graded | not_submitted | error
    message: str = ""
    file_hash: str = ""
    duration: float = 0.0
    sandbox: str = ""  # which isolation mode graded it
    # where it was graded, when a cluster worker graded it: {"host": ..., "cores": usable}
    graded_on: dict[str, Any] = field(default_factory=dict)
    # Found under another name (grader/layouts.py): expected file -> the file graded as it;
    # and, when not submitted, the files seen where it was expected.
    renamed: dict[str, str] = field(default_factory=dict)
    found_instead: tuple[str, ...] = ()
    # An instructor's override (grader/overrides.py): `points` is then the instructor's, and
    # the grader's own score is kept here, with the reason given.
    computed_points: float | None = None
    override_why: str = ""
    # The exercise's late policy (grader/late.py), applied from the platform's time:
    # `points` is then after the penalty.
    late_days: int = 0
    late_penalty: float = 0.0  # points taken
    late_unknown: str = ""  # why no penalty could be worked out, when it may be due

    @property
    def overridden(self) -> bool:
        return self.computed_points is not None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ExerciseResult":
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["tests"] = tuple(TestOutcome(**t) for t in data.get("tests", ()))
        values["found_instead"] = tuple(data.get("found_instead", ()))
        return cls(**values)


@dataclass(frozen=True)
class SubmissionResult:
    """One student's grades on every exercise graded in this run."""

    student: str
    exercises: tuple[ExerciseResult, ...]

    @property
    def points(self) -> float:
        return sum(e.points for e in self.exercises)

    @property
    def max_points(self) -> float:
        return sum(e.max_points for e in self.exercises)

    def exercise(self, exercise_id: str) -> ExerciseResult | None:
        return next((e for e in self.exercises if e.exercise == exercise_id), None)

    def to_dict(self) -> dict[str, Any]:
        return {"student": self.student, "exercises": [e.to_dict() for e in self.exercises]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "SubmissionResult":
        return cls(data["student"], tuple(ExerciseResult.from_dict(e) for e in data["exercises"]))
