"""`grader check`'s checks beyond the loader (grader/lint.py): params.parallelism here."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from grader import lint
from grader.catalog import load_catalog

ROOT = Path(__file__).resolve().parent.parent


def test_the_catalogues_parallelism_thresholds_are_valid() -> None:
    catalog = load_catalog(ROOT / "exercises")
    assert any("parallelism" in e.params for e in catalog.exercises)  # the check has something to read
    assert [p for e in catalog.exercises for p in lint.parallelism_problems(e)] == []


@pytest.mark.parametrize("parallelism, expected", [
    ({"wishes": 4}, "field 'params.parallelism.wishes': unknown threshold"),
    ({"wish": 2.5}, "field 'params.parallelism.wish': expected a whole number, got 2.5"),
    ({"wish": 0}, "field 'params.parallelism.wish': must be positive, got 0"),
    ({"duty": "high"}, "field 'params.parallelism.duty': expected a number, got 'high'"),
    ({"duty": True}, "field 'params.parallelism.duty': expected a number, got True"),
    ({"duty": -0.1}, "field 'params.parallelism.duty': must be positive, got -0.1"),
    ([4], "field 'params.parallelism': expected a mapping of the timing rule's thresholds, got [4]"),
])
def test_a_malformed_threshold_is_one_line_naming_it(parallelism: object, expected: str) -> None:
    exercise = load_catalog(ROOT / "exercises").get("gil_choice")
    broken = dataclasses.replace(exercise, params={**exercise.params, "parallelism": parallelism})
    found = lint.parallelism_problems(broken)
    assert len(found) == 1 and expected in found[0], found
    assert found[0] in lint.problems(broken)  # and `grader check` reports it, failing
