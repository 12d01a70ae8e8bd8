"""Instructor overrides: the points an instructor sets for one student on one exercise.

An override is stored in the gradebook beside the computed result, never in it: a regrade
replaces the computed result and leaves the override in force, and every report and export
shows both (the instructor's points count; the grader's are kept with the reason given).
`grader override STUDENT EXERCISE --points N --why TEXT` sets one, `--clear` removes it.
"""
from __future__ import annotations

from grader.gradebook import Gradebook


class OverrideError(Exception):
    """The override cannot be set as asked; one line, for the instructor."""


def resolve_student(book: Gradebook, given: str) -> str:
    """The gradebook's name for GIVEN: that name, or the student's platform id or email."""
    students = book.students()
    if given in students:
        return given
    people = book.people()
    hits = sorted({s for s, p in people.items()
                   if given.strip().lower() in (p.id.lower(), p.email.lower()) and s in students})
    if len(hits) == 1:
        return hits[0]
    if len(hits) > 1:
        raise OverrideError(f"'{given}' names {len(hits)} students ({', '.join(hits)}); give one of these")
    near = [s for s in students if given.lower() in s.lower()][:5]
    hint = f" (did you mean: {', '.join(near)}?)" if near else ""
    raise OverrideError(f"no student '{given}' in {book.path}{hint}")


def set_override(book: Gradebook, student: str, exercise: str, points: float, why: str) -> tuple[str, float, float]:
    """Store the override; (student, computed points, maximum) for the confirmation."""
    student = resolve_student(book, student)
    result = next((r for r in book.all_results([student])), None)
    ex = result.exercise(exercise) if result else None
    if ex is None:
        graded = ", ".join(e.exercise for e in result.exercises) if result else "none"
        raise OverrideError(f"{student} has no result on '{exercise}' (graded: {graded})")
    if not 0 <= points <= ex.max_points:
        raise OverrideError(f"--points {points:g}: give between 0 and {ex.max_points:g}, the exercise's maximum")
    if not why.strip():
        raise OverrideError("--why: say why (it is shown to the student beside the points)")
    computed = ex.computed_points if ex.overridden and ex.computed_points is not None else ex.points
    book.set_override(student, exercise, points, why.strip())
    return student, float(computed), ex.max_points


def clear_override(book: Gradebook, student: str, exercise: str) -> str:
    student = resolve_student(book, student)
    if not book.clear_override(student, exercise):
        raise OverrideError(f"{student} has no override on '{exercise}'")
    return student
