"""The late-penalty policy of an exercise, applied from the platform's submission time.

exercise.yaml may say:

    late:
      due: 2026-12-01T23:59:00+01:00   # with its time zone
      penalty_per_day: 10              # percent of the points earned, per day or part of one
      max_penalty: 50                  # percent, at most (default 100)

The submission time comes from the platform's layout: Gradescope's export metadata.
Where the platform gives none (Canvas and Moodle downloads; GitHub Classroom, whose
commit dates are the student's to set), no penalty is taken, and the report says so when
the platform marked the submission late (Canvas). The
penalty is a field of the result (days late, points taken), shown in every report; the
grader's points before it stay visible.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

import yaml

from grader.catalog import CatalogError, Exercise
from grader.model import ExerciseResult

DAY = 86_400.0


@dataclass(frozen=True)
class LatePolicy:
    due: datetime
    per_day: float  # percent of the points earned
    cap: float = 100.0  # percent

    def penalty(self, points: float, submitted: datetime) -> tuple[int, float]:
        """(days late, points taken) for POINTS earned on a submission made at SUBMITTED."""
        late = (submitted - self.due).total_seconds()
        if late <= 0:
            return 0, 0.0
        days = math.ceil(late / DAY)
        return days, round(points * min(self.cap, self.per_day * days) / 100.0, 4)


def policy(exercise: Exercise) -> LatePolicy | None:
    """EXERCISE's late policy, or None; CatalogError naming the field when malformed."""
    source = exercise.path / "exercise.yaml"
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return None  # the catalogue reported it already
    late = data.get("late") if isinstance(data, dict) else None
    if late is None:
        return None

    def fail(problem: str) -> CatalogError:
        return CatalogError(f"{source}: field 'late': {problem}")

    if not isinstance(late, dict):
        raise fail("expected a mapping with due, penalty_per_day and max_penalty")
    unknown = set(late) - {"due", "penalty_per_day", "max_penalty"}
    if unknown:
        raise fail(f"unknown key '{sorted(unknown)[0]}' (known: due, penalty_per_day, max_penalty)")
    due = _when(late.get("due"))
    if due is None:
        raise fail(f"'due' must be a date and time with its time zone, like "
                   f"2026-12-01T23:59:00+01:00; got {late.get('due')!r}")
    # YAML values, checked just below.
    per_day: Any = late.get("penalty_per_day")
    cap: Any = late.get("max_penalty", 100)
    for name, value in (("penalty_per_day", per_day), ("max_penalty", cap)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
            raise fail(f"'{name}' must be a percentage from 0 to 100, got {value!r}")
    return LatePolicy(due, float(per_day), float(cap))


def _when(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        found = value
    elif isinstance(value, date):
        return None  # a day without a time and zone is ambiguous by up to a day
    elif isinstance(value, str):
        try:
            found = datetime.fromisoformat(value.strip().replace(" ", "T", 1))
        except ValueError:
            return None
    else:
        return None
    return found if found.tzinfo is not None else None


def apply(result: ExerciseResult, person: Any, rule: LatePolicy | None) -> ExerciseResult:
    """RESULT with the policy applied from PERSON's submission time (a roster.Person)."""
    if rule is None or result.status == "not_submitted" or person is None:
        return result
    submitted = _when(getattr(person, "submitted_at", "") or "")
    if submitted is None:
        unknown = "the platform marked it late but gave no time" if getattr(person, "late", False) else ""
        return dataclasses.replace(result, points=round(result.points + result.late_penalty, 4),
                                   late_days=0, late_penalty=0.0, late_unknown=unknown)
    earned = result.points + result.late_penalty  # applying twice takes it once
    days, taken = rule.penalty(earned, submitted.astimezone(timezone.utc))
    return dataclasses.replace(result, points=round(earned - taken, 4), late_days=days,
                               late_penalty=taken, late_unknown="")
