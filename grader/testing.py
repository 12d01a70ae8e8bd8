"""What hidden tests use to say why a submission fails, in the student's words.

A hidden test fails by raising `Failure` (or calling `fail`): a verdict from
`grader.model.VERDICTS`, a message a student understands ("lost 1,204 of 80,000
increments with 8 threads"), and structured details the report renders (a race's
interleaving, a deadlock's cycle, speedup figures). A plain `assert x, "message"` also
works and counts as a wrong result.
"""
from __future__ import annotations

from typing import Any, NoReturn

from grader.model import VERDICTS


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


class StudentImportError(Exception):
    """The student's file could not be imported (syntax error, exception at import...)."""


def plural(count: int, noun: str, plural_noun: str | None = None) -> str:
    """'1 thread', '8 threads', '80,000 increments'."""
    word = noun if count == 1 else (plural_noun or noun + "s")
    return f"{count:,} {word}"
