"""The catalogue: every exercise.yaml of the repository loads, and a malformed one is
reported as one line naming the file, the field and what is wrong."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from grader.catalog import DEFAULT, FIELDS, REQUIRED, CatalogError, load_catalog, load_exercise

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE_IDS = {"race_counter", "bank_account", "transfer_deadlock", "dining_philosophers",
                 "download_pool", "connection_limit", "event_pipeline", "parallel_histogram",
                 "readers_writers", "once_cache", "process_timeout", "gil_choice"}


def test_the_repository_catalogue_loads_with_references():
    catalog = load_catalog(ROOT / "exercises")
    assert {e.id for e in catalog.exercises} <= CATALOGUE_IDS
    for exercise in catalog.exercises:
        assert exercise.solution is not None, f"{exercise.id} has no reference solution"
        assert exercise.max_points > 0
        for name in exercise.files:
            assert (exercise.solution / name).is_file(), f"solutions/{exercise.id}/{name} is missing"


@pytest.fixture
def exercise_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "exercises" / "race_counter"
    shutil.copytree(ROOT / "exercises" / "race_counter", folder)
    return folder


def rewrite(folder: Path, **changes: object) -> Path:
    path = folder / "exercise.yaml"
    data = yaml.safe_load(path.read_text())
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize("changes, expected", [
    ({"title": None}, "field 'title': is missing"),
    ({"id": "other"}, "field 'id': 'other' does not match the folder name 'race_counter'"),
    ({"files": ["counter.txt"]}, "field 'files[0]': expected a Python file name"),
    ({"files": ["missing.py"]}, "field 'files': the stub 'missing.py' is not in"),
    ({"topics": ["knitting"]}, "field 'topics[0]': 'knitting' is not a syllabus topic"),
    ({"mode": "fibres"}, "field 'mode': expected one of threads, processes, got 'fibres'"),
    ({"tests": {"test_a": {"points": -1, "title": "x"}}}, "field 'tests.test_a.points': must be positive"),
    ({"tests": {"check_a": {"points": 1, "title": "x"}}}, "field 'tests.check_a': a hidden test's name must start with 'test_'"),
    ({"tests": {"test_a": {"points": "many", "title": "x"}}}, "field 'tests.test_a.points': expected a number, got 'many'"),
    ({"limits": {"test": True}}, "field 'limits.test': expected a number, got True"),
    ({"colour": "blue"}, "field 'colour': unknown field"),
    ({"tests": {"test_a": {"points": 1, "title": "x", "weight": 2}}}, "field 'tests.test_a.weight': unknown field"),
    ({"tests": {"test_a": {"points": 1, "title": "adds", "in order": None}}},
     "field 'tests.test_a.in order': unknown field (known: measured, points, title); a comma in an unquoted title"),
    ({"tests": {"test_a": {"points": 1, "title": "x", "measured": "yes"}}, "timing": True},
     "field 'tests.test_a.measured': expected true or false, got 'yes'"),
    ({"tests": {"test_a": {"points": 1, "title": "x", "measured": True}}},
     "field 'tests.test_a.measured': only a timing exercise (timing: true) has measured tests"),
])
def test_a_malformed_field_is_named_in_one_line(exercise_dir: Path, changes: dict, expected: str):
    path = rewrite(exercise_dir, **changes)
    with pytest.raises(CatalogError) as caught:
        load_exercise(exercise_dir)
    message = str(caught.value)
    assert message.startswith(str(path)) and expected in message, message
    assert "\n" not in message


def test_invalid_yaml_gives_the_line(exercise_dir: Path):
    (exercise_dir / "exercise.yaml").write_text("id: race_counter\ntitle: [unclosed\n")
    with pytest.raises(CatalogError, match=r"exercise.yaml: not valid YAML \(line \d+\)"):
        load_exercise(exercise_dir)


def test_lenient_loading_sets_a_broken_exercise_aside(exercise_dir: Path):
    shutil.copytree(ROOT / "exercises" / "transfer_deadlock", exercise_dir.parent / "transfer_deadlock")
    (exercise_dir.parent / "half_written").mkdir()
    with pytest.raises(CatalogError, match="half_written/exercise.yaml: no exercise.yaml"):
        load_catalog(exercise_dir.parent)
    catalog = load_catalog(exercise_dir.parent, lenient=True)
    assert [e.id for e in catalog.exercises] == ["race_counter", "transfer_deadlock"]
    assert [name for name, _ in catalog.broken] == ["half_written"]
    with pytest.raises(CatalogError, match="no exercise.yaml"):
        catalog.get("half_written")  # asked for by name: its own problem, not "unknown"


def test_student_file_names_are_unique_across_the_catalogue(exercise_dir: Path):
    twin = exercise_dir.parent / "race_twin"
    shutil.copytree(exercise_dir, twin)
    rewrite(twin, id="race_twin")
    with pytest.raises(CatalogError, match="'counter.py' is also edited in exercise 'race_counter'"):
        load_catalog(exercise_dir.parent)


def test_the_readme_lists_every_exercise_yaml_field_with_its_default() -> None:
    """The README's table of fields is written by hand: it must name every field of
    catalog.FIELDS, and a nested one with its default, as the loader applies it."""
    import re
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = {m.group(1): line for line in readme.splitlines() if (m := re.match(r"\| `([a-z_]+)` \|", line))}
    for field in FIELDS:
        top, _, sub = field.key.partition(".")
        assert top in rows, f"README.md's exercise.yaml table has no row for {top}"
        if sub:
            # "tests.*.measured": a field of each entry, named by its last part
            name = sub.rpartition(".")[2]
            default = str(field.default).lower() if isinstance(field.default, bool) else f"{field.default:g}"
            assert re.search(rf"`{re.escape(name)}` \([^)]*\b{default}\)", rows[top]), \
                f"README.md does not give {field.key}'s default, {default}"


def test_an_exercise_yaml_with_only_the_required_fields_gets_the_declared_defaults(exercise_dir: Path) -> None:
    required = {f.key for f in FIELDS if f.default is REQUIRED}
    optional = {f.key.partition(".")[0] for f in FIELDS if f.default is not REQUIRED} - required
    rewrite(exercise_dir, **{key: None for key in optional})
    exercise = load_exercise(exercise_dir)
    assert (exercise.test_timeout, exercise.run_timeout, exercise.memory_mb, exercise.mode,
            exercise.schedules, exercise.schedule_seconds, exercise.timing, exercise.given,
            exercise.params) == (
        30.0, 300.0, 2048, "threads", 200, 1.5, False, (), {})
    assert exercise.test_timeout == DEFAULT["limits.test"] and exercise.schedule_seconds == DEFAULT["schedules.seconds"]
    assert {f.key for f in FIELDS if f.default is REQUIRED} == {"id", "title", "topics", "files", "tests"}


def test_a_timing_exercise_runs_apart_only_the_tests_it_marks_measured(exercise_dir: Path) -> None:
    from grader.catalog import exercise_from_json, exercise_to_json
    tests = {"test_a": {"points": 1, "title": "a"}, "test_b": {"points": 2, "title": "b", "measured": True}}
    rewrite(exercise_dir, timing=True, tests=tests)
    exercise = load_exercise(exercise_dir)
    assert [(t.name, t.measured) for t in exercise.tests] == [("test_a", False), ("test_b", True)]
    assert exercise.measured_apart
    # How the test process learns which tests are measured: the exercise as JSON.
    assert exercise_from_json(exercise_to_json(exercise)).tests == exercise.tests
    # None marked, or all of them: every test is measured, in one process, alone.
    for marks in ((False, False), (True, True)):
        for spec, mark in zip(tests.values(), marks):
            spec["measured"] = mark
        rewrite(exercise_dir, timing=True, tests=tests)
        assert not load_exercise(exercise_dir).measured_apart


def test_every_timing_exercise_of_the_catalogue_marks_its_measured_tests() -> None:
    """Otherwise its correctness tests would wait for the machine to be free."""
    timing = [e for e in load_catalog(ROOT / "exercises").exercises if e.timing]
    assert timing and all(e.measured_apart for e in timing), [e.id for e in timing if not e.measured_apart]
