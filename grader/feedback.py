"""When students see the hidden tests' names and messages: per exercise, as on Gradescope.

exercise.yaml may say `feedback: visible | hidden | after_due_date | after_published`
(default visible). The score is always shown; what waits is each test's title, message
and details. `after_due_date` needs the due date of the exercise's late policy. The
policies are recorded in the gradebook when grading, with whether the grades are
published (`grader report --published`), so every rebuild of the reports decides the
same way: a student's report.html shows the tests of the exercises released now, and
their results.json gives each test its exercise's Gradescope visibility.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Sequence

import yaml

from grader.catalog import DEFAULT, CatalogError, Exercise

VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
WAITS_FOR = {"hidden": "are kept by your instructor",
             "after_due_date": "are shown after the due date",
             "after_published": "are shown when the grades are published"}


def visibility(exercise: Exercise) -> str:
    """EXERCISE's feedback visibility; CatalogError naming the field when malformed."""
    source = exercise.path / "exercise.yaml"
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return DEFAULT["feedback"]
    value = data.get("feedback", DEFAULT["feedback"]) if isinstance(data, dict) else DEFAULT["feedback"]
    if value not in VISIBILITIES:
        raise CatalogError(f"{source}: field 'feedback': expected one of "
                           f"{', '.join(VISIBILITIES)}, got {value!r}")
    if value == "after_due_date":
        from grader.late import policy
        if policy(exercise) is None:
            raise CatalogError(f"{source}: field 'feedback': after_due_date needs the due date "
                               f"of a 'late' policy (late: due: ...)")
    return value


def policies(exercises: Sequence[Exercise]) -> dict[str, dict[str, str]]:
    """Exercise id -> {visibility, due}, as the gradebook records them."""
    from grader.late import policy
    found = {}
    for exercise in exercises:
        rule = policy(exercise)
        found[exercise.id] = {"visibility": visibility(exercise),
                              "due": rule.due.isoformat() if rule else ""}
    return found


def released(rule: dict[str, Any] | None, published: bool,
             now: datetime | None = None) -> bool:
    """Whether the tests of an exercise with RULE are shown to students now."""
    if not rule:
        return True
    vis = rule.get("visibility", "visible")
    if vis == "visible":
        return True
    if vis == "after_published":
        return published
    if vis == "after_due_date":
        try:
            due = datetime.fromisoformat(rule.get("due", ""))
        except ValueError:
            return False
        return (now or datetime.now(timezone.utc)) >= due
    return False  # hidden
