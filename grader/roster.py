"""Who the students are: the platform's identity of each submission, and the class roster.

A platform export names its students its own way (Canvas user ids, Moodle participant
numbers, Gradescope's submission metadata, GitHub logins). The layout that reads it keeps
that identity as a `Person` beside the submission, so every export can carry the id the
platform will match grades on. A roster (`--roster roster.csv`: id, name, email, section)
completes the picture: students on it who handed in nothing are graded "not submitted",
and submissions nobody on it claims are reported.
"""
from __future__ import annotations

import csv
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any, Iterable, Sequence


class RosterError(Exception):
    """The roster file cannot be read; one line, for the instructor."""


@dataclass(frozen=True)
class Person:
    """A student as the platform (or the roster) knows them."""

    id: str  # the platform's id: Canvas user id, Moodle participant, SID, GitHub login...
    name: str = ""
    email: str = ""
    section: str = ""
    platform: str = "folder"  # the layout that found the submission, or "roster"
    submitted_at: str = ""  # ISO 8601, when the platform says when it was handed in
    late: bool = False  # the platform marked the submission late
    on_roster: bool | None = None  # None: no roster was given

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Person":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


# Header names a roster may use for each field, lower case: platforms export their own.
_COLUMNS = {
    "id": ("id", "student id", "student_id", "sid", "user id", "userid", "login", "github",
           "github_username", "identifier", "username"),
    "name": ("name", "full name", "student", "student name"),
    "email": ("email", "email address", "e-mail"),
    "section": ("section", "group", "sections"),
}


def read_roster(path: Path) -> list[Person]:
    """The students of ROSTER.CSV. Needs an id column; name, email and section are optional."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")  # Excel writes a byte-order mark
    except OSError as exc:
        raise RosterError(f"{path}: cannot read the roster ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise RosterError(f"{path}: the roster is not UTF-8 text; save it as CSV UTF-8") from None
    rows = list(csv.reader(text.splitlines()))
    if not rows:
        raise RosterError(f"{path}: the roster is empty; expected a header such as id,name,email,section")
    header = [h.strip().lower() for h in rows[0]]
    where = {}
    for key, names in _COLUMNS.items():
        column = next((header.index(n) for n in names if n in header), None)
        if column is not None:
            where[key] = column
    if "id" not in where:
        raise RosterError(f"{path}: no id column in the header ({', '.join(rows[0])}); "
                          f"expected id,name,email,section")
    people, seen = [], set()
    for line, row in enumerate(rows[1:], 2):
        if not any(cell.strip() for cell in row):
            continue
        values: dict[str, Any] = {k: (row[c].strip() if c < len(row) else "") for k, c in where.items()}
        if not values["id"] and row[0].strip().lower() == "points possible":
            continue  # the second row of a Canvas gradebook export
        if not values["id"]:
            raise RosterError(f"{path}: line {line}: no id")
        if values["id"] in seen:
            raise RosterError(f"{path}: line {line}: the id {values['id']} is listed twice")
        seen.add(values["id"])
        people.append(Person(platform="roster", on_roster=True, **values))
    return people


@dataclass(frozen=True)
class Matched:
    """A class checked against its roster."""

    people: dict[str, Person]  # submission's student key -> who they are, roster fields merged
    missing: list[Person]  # on the roster, no submission
    unknown: list[str]  # submissions (student keys) no roster line claims


def match(found: Sequence[tuple[str, Person | None]], roster: Iterable[Person]) -> Matched:
    """Pair each submission (its student key and the identity its layout read) with a
    roster line: by id, then by email, then by name, ignoring case. The roster's id, name,
    email and section win: they are what the instructor's exports must carry."""
    roster = list(roster)
    by: dict[str, dict[str, Person]] = {"id": {}, "email": {}, "name": {}}
    for person in roster:
        for field_name in by:
            value = getattr(person, field_name).strip().lower()
            if value:
                by[field_name].setdefault(value, person)
    people, claimed, unknown = {}, set(), []
    for student, identity in found:
        person = identity or Person(id=student)
        hit = None
        # A folder may be named by the id, the email or the name the roster has.
        for field_name, value in (("id", person.id), ("id", student), ("email", person.email),
                                  ("email", student), ("name", person.name), ("name", student)):
            hit = by[field_name].get(value.strip().lower()) if value else None
            if hit is not None and hit.id not in claimed:
                break
            hit = None
        if hit is None:
            unknown.append(student)
            people[student] = replace(person, on_roster=False)
            continue
        claimed.add(hit.id)
        people[student] = replace(person, id=hit.id, name=hit.name or person.name,
                                  email=hit.email or person.email,
                                  section=hit.section or person.section, on_roster=True)
    missing = [p for p in roster if p.id not in claimed]
    return Matched(people, missing, unknown)
