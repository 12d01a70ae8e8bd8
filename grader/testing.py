"""What hidden tests use to say why a submission fails, in the student's words.

A hidden test fails by raising `Failure` (or calling `fail`): a verdict from
`grader.model.VERDICTS`, a message a student understands ("lost 1,204 of 80,000
increments with 8 threads"), and structured details the report renders (a race's
interleaving, a deadlock's cycle, speedup figures). A plain `assert x, "message"` also
works and counts as a wrong result.
"""
from __future__ import annotations

from typing import Any, NoReturn

from grader.model import NOT_JUDGED, VERDICTS


class Failure(AssertionError):
    """A hidden test's verdict against the submission."""

    def __init__(self, message: str, verdict: str = "wrong", **details: Any) -> None:
        if verdict not in VERDICTS or verdict == "passed":
            raise ValueError(f"unknown failing verdict {verdict!r}")
        super().__init__(message)
        self.message = message
        self.verdict = verdict
        self.details = details

    def __str__(self) -> str:
        return self.message


def fail(message: str, verdict: str = "wrong", **details: Any) -> NoReturn:
    raise Failure(message, verdict, **details)


def check(condition: object, message: str, verdict: str = "wrong", **details: Any) -> None:
    """Fail with `message` unless `condition` holds."""
    if not condition:
        raise Failure(message, verdict, **details)


def not_judged(record_property: Any, reason: str, note: str) -> None:
    """Say that a passing test did not judge the submission, and why: REASON is a key of
    grader.model.NOT_JUDGED (the gradebook regrades "busy" and "budget" on the next run),
    NOTE the sentence the student reads. The test then returns: it passes, unjudged."""
    if reason not in NOT_JUDGED:
        raise ValueError(f"unknown reason {reason!r} for a verdict not judged")
    record_property("judged", False)
    record_property("not_judged_reason", reason)
    record_property("note", note)


class StudentImportError(Exception):
    """The student's file could not be imported (syntax error, exception at import...)."""


def plural(count: int, noun: str, plural_noun: str | None = None) -> str:
    """'1 thread', '8 threads', '80,000 increments'."""
    word = noun if count == 1 else (plural_noun or noun + "s")
    return f"{count:,} {word}"
