"""The exercise catalogue: exercise.yaml files, loaded and validated with clear errors.

A malformed file is reported as one line naming the file, the field and what is wrong, so
an instructor editing the catalogue never has to read a traceback.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.model import TestSpec

SYLLABUS = {
    "threads vs processes", "race conditions", "deadlock", "starvation", "thread safety",
    "mutex", "semaphore", "atomic operations", "queue", "the GIL", "CPU-bound work",
    "I/O-bound work", "process overhead", "pickling", "killable processes",
    "concurrent.futures", "condition variables",
}
MODES = ("threads", "processes")


@dataclass(frozen=True)
class Field:
    """One exercise.yaml field: the loader's, the defaults' and the README's one source."""

    key: str  # "limits.test": a field inside a top-level mapping
    kind: str  # what the value is, in words
    default: Any  # ... when absent; REQUIRED when it must be given
    help: str


REQUIRED = object()
# Every exercise.yaml field. `load_exercise` reads the defaults from here, `Exercise`'s
# defaults are these, and tests/test_catalog.py checks README.md lists every one of them
# with its default. `late` and `feedback` are read and checked by grader/late.py and
# grader/feedback.py.
FIELDS = (
    Field("id", "string", REQUIRED, "the exercise id; must equal the folder name"),
    Field("title", "string", REQUIRED, "one line, in the student's words"),
    Field("topics", "list of strings", REQUIRED, "syllabus topics (SYLLABUS)"),
    Field("files", "list of strings", REQUIRED, "the file(s) a student edits"),
    Field("given", "list of strings", (), "helpers students import but do not edit"),
    Field("instrumented", "mapping", {}, "given file -> file under grader/kernels/ staged instead"),
    Field("mode", "string", "threads", "threads (the controlled scheduler) or processes"),
    Field("tests", "mapping", REQUIRED, "hidden test name -> {points, title, measured}"),
    Field("tests.*.measured", "true or false", False,
          "a timing exercise's test that measures time: only these run alone"),
    Field("limits.test", "seconds", 30.0, "per hidden test"),
    Field("limits.run", "seconds", 300.0, "for all the hidden tests of the exercise"),
    Field("limits.memory_mb", "megabytes", 2048, "address space of a test process"),
    Field("timing", "true or false", False, "tests measure time: never graded beside other work"),
    Field("schedules.count", "number", 200, "controlled-scheduler budget per test: schedules ..."),
    Field("schedules.seconds", "seconds", 1.5, "... and seconds, whichever ends first"),
    Field("params", "mapping", {}, "sizes and thresholds for the hidden tests (exercise.params)"),
    Field("feedback", "string", "visible", "when students see the hidden tests' names and messages"),
    Field("late", "mapping", None, "due, penalty_per_day, max_penalty (none: no penalty)"),
)
DEFAULT = {f.key: f.default for f in FIELDS}


class CatalogError(Exception):
    """A problem in an exercise folder, phrased for the instructor who wrote it."""


@dataclass(frozen=True)
class Exercise:
    id: str
    title: str
    topics: tuple[str, ...]
    files: tuple[str, ...]  # the files a student edits
    tests: tuple[TestSpec, ...]  # the hidden tests, with their points
    path: Path  # the exercise folder
    solution: Path | None  # solutions/<id>
    given: tuple[str, ...] = ()  # helpers students import but do not edit
    # given files the grader replaces with its own instrumented version when grading:
    # name -> file under grader/kernels/
    instrumented: dict[str, str] = field(default_factory=dict)
    mode: str = DEFAULT["mode"]  # threads: student modules run under the controlled scheduler
    test_timeout: float = DEFAULT["limits.test"]  # seconds, per hidden test
    run_timeout: float = DEFAULT["limits.run"]  # seconds, for all hidden tests of the exercise
    memory_mb: int = DEFAULT["limits.memory_mb"]
    timing: bool = DEFAULT["timing"]  # has tests that measure time: never graded beside other work
    schedules: int = DEFAULT["schedules.count"]  # controlled-scheduler budget per test: schedules ...
    schedule_seconds: float = DEFAULT["schedules.seconds"]  # ... and seconds, whichever ends first
    params: dict[str, Any] = field(default_factory=dict)  # thresholds and sizes for tests

    @property
    def max_points(self) -> float:
        return sum(t.points for t in self.tests)

    @property
    def measured_apart(self) -> bool:
        """Whether the measured tests run in a test process of their own, alone on the
        machine, and the others beside other grading: a timing exercise that marks some of
        its tests `measured`, not all (one that marks none has every test measured)."""
        marked = [t.measured for t in self.tests]
        return self.timing and any(marked) and not all(marked)

    @property
    def hidden_dir(self) -> Path:
        return self.path / "hidden"

    def test(self, name: str) -> TestSpec | None:
        return next((t for t in self.tests if t.name == name), None)

    def content_hash(self) -> str:
        """A hash of everything that decides a grade: yaml, hidden tests, given files."""
        digest = hashlib.sha256()
        paths = [self.path / "exercise.yaml", *sorted(self.hidden_dir.rglob("*.py"))]
        paths += [self.path / g for g in self.given]
        for p in paths:
            if p.is_file():
                digest.update(p.name.encode() + b"\0" + p.read_bytes())
        return digest.hexdigest()[:16]


def exercise_to_json(exercise: Exercise) -> str:
    """The exercise as JSON: how the grader hands it to a test process (grader/channel.py)
    and writes it into the student bundle's course.json."""
    return json.dumps(dataclasses.asdict(exercise), default=str)


def exercise_from_json(text: str) -> Exercise:
    """The Exercise that exercise_to_json wrote (fields it does not know are ignored)."""
    data = json.loads(text)
    data["tests"] = tuple(TestSpec(**t) for t in data["tests"])
    data["path"] = Path(data["path"])
    data["solution"] = Path(data["solution"]) if data.get("solution") else None
    for name in ("topics", "files", "given"):
        data[name] = tuple(data.get(name, ()))
    known = {f.name for f in dataclasses.fields(Exercise)}
    return Exercise(**{k: v for k, v in data.items() if k in known})


class _Fields:
    """Reads typed fields out of one yaml mapping, raising CatalogError with the context."""

    def __init__(self, source: Path, data: dict[str, Any], prefix: str = "") -> None:
        self.source, self.data, self.prefix = source, data, prefix

    def fail(self, name: str, problem: str) -> CatalogError:
        return CatalogError(f"{self.source}: field '{self.prefix}{name}': {problem}")

    def get(self, name: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
        if name not in self.data:
            if default is ...:
                raise self.fail(name, "is missing")
            return default
        value = self.data[name]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds:
            raise self.fail(name, f"expected {_kind_name(kinds)}, got {value!r}")
        if not isinstance(value, kinds):
            raise self.fail(name, f"expected {_kind_name(kinds)}, got {value!r}")
        return value

    def positive(self, name: str, default: Any = ...) -> float:
        value = self.get(name, (int, float), default)
        if value <= 0:
            raise self.fail(name, f"must be positive, got {value!r}")
        return value

    def strings(self, name: str, default: Any = ...) -> tuple[str, ...]:
        value = self.get(name, list, default)
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item:
                raise self.fail(f"{name}[{i}]", f"expected a non-empty string, got {item!r}")
        return tuple(value)


def _kind_name(kinds: tuple[type, ...]) -> str:
    names = {int: "a number", float: "a number", str: "a string", list: "a list",
             dict: "a mapping", bool: "true or false"}
    return " or ".join(dict.fromkeys(names.get(k, k.__name__) for k in kinds))


def load_exercise(folder: Path, solutions_root: Path | None = None) -> Exercise:
    source = folder / "exercise.yaml"
    if not source.is_file():
        raise CatalogError(f"{source}: no exercise.yaml in this exercise folder")
    import yaml  # here, not at the top: every test process imports this module, never this function

    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise CatalogError(f"{source}: not valid YAML{where}: {problem}") from None
    if not isinstance(data, dict):
        raise CatalogError(f"{source}: expected a mapping of fields at the top level")
    f = _Fields(source, data)
    unknown = set(data) - _KNOWN_FIELDS
    if unknown:
        raise f.fail(sorted(unknown)[0], f"unknown field (known: {', '.join(sorted(_KNOWN_FIELDS))})")

    ex_id = f.get("id", str)
    if ex_id != folder.name:
        raise f.fail("id", f"'{ex_id}' does not match the folder name '{folder.name}'")
    files = f.strings("files")
    if not files:
        raise f.fail("files", "lists no file for students to edit")
    for i, name in enumerate(files):
        if not name.endswith(".py") or "/" in name:
            raise f.fail(f"files[{i}]", f"expected a Python file name like 'counter.py', got {name!r}")
    given = f.strings("given", list(DEFAULT["given"]))
    for i, name in enumerate(given):
        if not (folder / name).is_file():
            raise f.fail(f"given[{i}]", f"'{name}' is not in {folder}")
    topics = f.strings("topics")
    for i, topic in enumerate(topics):
        if topic not in SYLLABUS:
            raise f.fail(f"topics[{i}]", f"'{topic}' is not a syllabus topic ({', '.join(sorted(SYLLABUS))})")
    mode = f.get("mode", str, DEFAULT["mode"])
    if mode not in MODES:
        raise f.fail("mode", f"expected one of {', '.join(MODES)}, got {mode!r}")
    instrumented = f.get("instrumented", dict, dict(DEFAULT["instrumented"]))
    for name in instrumented:
        if name not in given:
            raise f.fail(f"instrumented.{name}", "only a given file can be instrumented")

    tests_raw = f.get("tests", dict)
    if not tests_raw:
        raise f.fail("tests", "lists no hidden test")
    tests = []
    for name, spec in tests_raw.items():
        if not isinstance(name, str) or not name.startswith("test_"):
            raise f.fail(f"tests.{name}", "a hidden test's name must start with 'test_'")
        if not isinstance(spec, dict):
            raise f.fail(f"tests.{name}", f"expected a mapping with points and title, got {spec!r}")
        tf = _Fields(source, spec, f"tests.{name}.")
        extra = sorted(set(spec) - _TEST_FIELDS, key=str)
        if extra:
            # `{points: 1, title: adds, in order}`: YAML reads "in order" as a field of its own
            hint = "; a comma in an unquoted title starts a new field: quote the title" \
                if spec[extra[0]] is None else ""
            raise tf.fail(str(extra[0]), f"unknown field (known: {', '.join(sorted(_TEST_FIELDS))}){hint}")
        tests.append(TestSpec(name, float(tf.positive("points")), tf.get("title", str),
                              bool(tf.get("measured", bool, DEFAULT["tests.*.measured"]))))

    timing = bool(f.get("timing", bool, DEFAULT["timing"]))
    measured = [t.name for t in tests if t.measured]
    if measured and not timing:
        raise f.fail(f"tests.{measured[0]}.measured", "only a timing exercise (timing: true) has measured tests")
    limits = _Fields(source, f.get("limits", dict, {}), "limits.")
    budget = _Fields(source, f.get("schedules", dict, {}), "schedules.")
    solutions_root = solutions_root or folder.parent.parent / "solutions"
    solution = solutions_root / ex_id
    exercise = Exercise(
        id=ex_id,
        title=f.get("title", str),
        topics=topics,
        files=files,
        tests=tuple(tests),
        path=folder,
        solution=solution if solution.is_dir() else None,
        given=given,
        instrumented={str(k): str(v) for k, v in instrumented.items()},
        mode=mode,
        test_timeout=float(limits.positive("test", DEFAULT["limits.test"])),
        run_timeout=float(limits.positive("run", DEFAULT["limits.run"])),
        memory_mb=int(limits.positive("memory_mb", DEFAULT["limits.memory_mb"])),
        timing=timing,
        schedules=int(budget.positive("count", DEFAULT["schedules.count"])),
        schedule_seconds=float(budget.positive("seconds", DEFAULT["schedules.seconds"])),
        params=f.get("params", dict, dict(DEFAULT["params"])),
    )
    for name in files:
        if not (folder / name).is_file():
            raise f.fail("files", f"the stub '{name}' is not in {folder}")
    if not exercise.hidden_dir.is_dir():
        raise CatalogError(f"{folder}: no hidden/ folder of hidden tests")
    return exercise


_KNOWN_FIELDS = {f.key.partition(".")[0] for f in FIELDS}
_TEST_FIELDS = {"points", "title", "measured"}


@dataclass(frozen=True)
class Catalog:
    root: Path
    exercises: tuple[Exercise, ...]
    broken: tuple[tuple[str, str], ...] = ()  # (folder name, problem) set aside when lenient

    def get(self, exercise_id: str) -> Exercise:
        for exercise in self.exercises:
            if exercise.id == exercise_id:
                return exercise
        for name, problem in self.broken:
            if name == exercise_id:
                raise CatalogError(problem)
        known = ", ".join(e.id for e in self.exercises)
        raise CatalogError(f"unknown exercise '{exercise_id}' (known: {known})")

    def by_file(self) -> dict[str, Exercise]:
        """Student file name -> exercise: file names are unique across the catalogue."""
        return {name: e for e in self.exercises for name in e.files}


def load_catalog(root: Path, solutions_root: Path | None = None, *, lenient: bool = False) -> Catalog:
    """Every exercise under `root`. Strict by default: the first problem is an error.
    Lenient, a broken exercise is set aside with its one-line reason in `broken`, so that
    grading the others is not stopped by a folder someone is still writing."""
    if not root.is_dir():
        raise CatalogError(f"{root}: no such exercises folder")
    loaded, broken = [], []
    for folder in sorted(root.iterdir()):
        if not folder.is_dir() or folder.name.startswith((".", "_")):
            continue
        try:
            loaded.append(load_exercise(folder, solutions_root))
        except CatalogError as exc:
            if not lenient:
                raise
            broken.append((folder.name, str(exc)))
    exercises = tuple(loaded)
    if not exercises:
        raise CatalogError(broken[0][1] if broken else f"{root}: holds no exercise folder")
    seen: dict[str, str] = {}
    for exercise in exercises:
        for name in exercise.files:
            if name in seen:
                raise CatalogError(
                    f"{exercise.path / 'exercise.yaml'}: field 'files': '{name}' is also "
                    f"edited in exercise '{seen[name]}'; student file names must be unique")
            seen[name] = exercise.id
    return Catalog(root, exercises, tuple(broken))
