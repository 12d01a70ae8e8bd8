"""The students' side of the grader: the self-check and the hand-in, inside the bundle.

`check` runs an exercise's public tests exactly the way grading runs the hidden ones: a
staged copy of the student's file and the given files, a limited child process, the
grader's plugin, and, in threads mode, the student's module loaded through the
controlled scheduler's shims. The public tests simply take the place of hidden/ (the
sandbox runs whatever that folder holds), so a race found at home is a race found when
graded, for the same reason.

`submit` packs the student's files into <name>.zip in the layout the grader reads.

Usage, from the bundle's Makefile:
    python -m grader selfcheck BUNDLE [--exercise ID] [--verbose]
    python -m grader.selfcheck submit BUNDLE [--student NAME]

Only the standard library is imported at the top: `submit` must work with a bare Python
that has none of the grader's dependencies installed.
"""
from __future__ import annotations

import argparse
import getpass
import hashlib
import json
import re
import shutil
import sys
import tempfile
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence, TextIO

if TYPE_CHECKING:
    from grader.catalog import Exercise
    from grader.sandbox import SandboxRun

MANIFEST = "course.json"  # written by grader.bundle
PUBLIC_TESTS = "test_public.py"

# Written beside the public tests in the staged copy. Public tests import the student's
# module by name (`from counter import Counter`); pre-loading it the way the plugin's
# `student` fixture does puts the controlled (shim-loaded) module in sys.modules first, so
# that plain import gets it. An import failure becomes a module that explains itself when
# the test takes a name from it, in the words grading would use.
CONFTEST = '''"""Written by the grader's self-check: loads your files the way grading does."""
import os
import sys
import types
from pathlib import Path

from grader.catalog import exercise_from_json
from grader.channel import EXERCISE, STAGED
from grader.plugin import Student
from grader.testing import StudentImportError


class _DoesNotImport(types.ModuleType):
    def __init__(self, name, message):
        super().__init__(name)
        self._message = message

    def __getattr__(self, attribute):
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        raise StudentImportError(self._message)


def _preload():
    exercise = exercise_from_json(os.environ[EXERCISE])
    student = Student(Path(os.environ[STAGED]), exercise)
    for file in (*exercise.files, *exercise.given):
        name = file.removesuffix(".py")
        if "/" in name or name in sys.modules:
            continue  # a given helper the student's module already imported, the same way
        if not student.path(name).is_file():
            continue
        try:
            student.module(name)
        except StudentImportError as exc:
            sys.modules[name] = _DoesNotImport(name, str(exc))


_preload()
'''


class SelfCheckError(Exception):
    """The bundle is not usable as given (no course.json, unknown exercise...)."""


# --------------------------------------------------------------------------- the bundle

def load_manifest(bundle: Path) -> list[dict[str, Any]]:
    path = Path(bundle) / MANIFEST
    if not path.is_file():
        raise SelfCheckError(f"{bundle}: no {MANIFEST} here; run this in the course bundle's folder")
    return list(json.loads(path.read_text(encoding="utf-8"))["exercises"])


def bundle_exercises(bundle: Path, ids: Sequence[str] | None = None) -> list["Exercise"]:
    """The bundle's exercises as the grader's Exercise objects, their paths in the bundle."""
    from grader.catalog import exercise_from_json
    bundle = Path(bundle).resolve()
    entries = load_manifest(bundle)
    exercises = []
    for entry in entries:
        exercise = exercise_from_json(json.dumps(entry))
        exercises.append(replace(exercise, path=bundle / entry["path"], solution=None))
    if not ids:
        return exercises
    by_id = {e.id: e for e in exercises}
    unknown = [i for i in ids if i not in by_id]
    if unknown:
        raise SelfCheckError(f"unknown exercise '{unknown[0]}' (known: {', '.join(by_id)})")
    return [by_id[i] for i in dict.fromkeys(ids)]


# --------------------------------------------------------------------------- check

def run_public_tests(exercise: "Exercise") -> "SandboxRun":
    """EXERCISE's public tests against the files in its folder, run like hidden tests."""
    from grader.sandbox import run_hidden_tests
    work = Path(tempfile.mkdtemp(prefix=f"selfcheck-{exercise.id}-"))
    try:
        # A stand-in exercise folder whose hidden/ holds the public tests: the sandbox
        # stages and runs it exactly as it does the real one.
        stand_in = work / exercise.id
        (stand_in / "hidden").mkdir(parents=True)
        shutil.copyfile(exercise.path / PUBLIC_TESTS, stand_in / "hidden" / PUBLIC_TESTS)
        (stand_in / "hidden" / "conftest.py").write_text(CONFTEST, encoding="utf-8")
        for name in exercise.given:
            (stand_in / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(exercise.path / name, stand_in / name)
        files = {name: exercise.path / name for name in exercise.files if (exercise.path / name).is_file()}
        return run_hidden_tests(replace(exercise, path=stand_in), files)
    finally:
        shutil.rmtree(work, ignore_errors=True)


@dataclass(frozen=True)
class PublicResult:
    exercise: str
    passed: int
    total: int
    problems: tuple[str, ...] = ()  # run-level: the tests could not be collected...


def check(bundle: Path, ids: Sequence[str] | None = None, *, verbose: bool = False,
          out: TextIO | None = None) -> int:
    """Run the public tests of the bundle's exercises and print a summary; 0 if all passed."""
    from grader.report.text import details_text, verdict_words
    out = out or sys.stdout
    exercises = bundle_exercises(bundle, ids)
    results: list[PublicResult] = []
    for exercise in exercises:
        print(f"\n{exercise.id}: {exercise.title}", file=out)
        if not (exercise.path / PUBLIC_TESTS).is_file():
            print("  no public tests for this exercise", file=out)
            continue
        missing = [n for n in exercise.files if not (exercise.path / n).is_file()]
        if missing:
            print(f"  {', '.join(missing)} is missing from {exercise.id}/: put your file back", file=out)
            results.append(PublicResult(exercise.id, 0, 0, ("missing file",)))
            continue
        out.flush()
        run = run_public_tests(exercise)
        passed = 0
        for record in run.records:
            mark = "PASS" if record.verdict == "passed" else "FAIL"
            passed += record.verdict == "passed"
            print(f"  {mark}  {record.test}", file=out)
            if record.verdict == "passed" and record.message:
                print(_indent(record.message, 8), file=out)  # what was tried or measured
            if record.verdict != "passed":
                print(_indent(f"{verdict_words(record.verdict)}: {record.message}", 8), file=out)
                # A replay command names the grader's hidden tests: no use here.
                extra = details_text({k: v for k, v in record.details.items() if k != "replay"})
                if extra:
                    print(_indent(extra, 8), file=out)
        problems = tuple(_public_words(n) for n in run.notes)
        for problem in problems:
            print(_indent(f"problem: {problem}", 2), file=out)
        if verbose and run.output.strip():
            print(_indent("--- the test process's output ---\n" + run.output.rstrip(), 4), file=out)
        results.append(PublicResult(exercise.id, passed, len(run.records), problems))

    all_passed = all(r.passed == r.total and not r.problems for r in results)
    total = sum(r.total for r in results)
    passed = sum(r.passed for r in results)
    broken = [r.exercise for r in results if r.problems]
    print(f"\n{passed} of {total} public test{'s' if total != 1 else ''} passed"
          f"{' in ' + str(len(results)) + ' exercises' if len(results) != 1 else ''}"
          f"{'; the tests of ' + ', '.join(broken) + ' could not run (see above)' if broken else ''}.",
          file=out)
    print("This is not your grade: the hidden tests go much further (hundreds of thread "
          "schedules, timing, evidence of parallel work).\nPassing every public test is a "
          "good sign, not a promise. Hand in with `make submit STUDENT=yourname`.", file=out)
    return 0 if all_passed else 1


def _public_words(note: str) -> str:
    # The sandbox speaks of hidden tests; here they are the public ones.
    note = note.replace("the hidden tests", "the public tests")
    return re.sub(r"(grader\.testing\.)?StudentImportError: ", "", note)


def _indent(text: str, width: int) -> str:
    pad = " " * width
    return "\n".join(pad + line if line else line for line in text.splitlines())


# --------------------------------------------------------------------------- submit

@dataclass(frozen=True)
class Packed:
    archive: Path
    student: str
    files: tuple[str, ...]  # "race_counter/counter.py"
    notes: tuple[str, ...]  # what the student should look at before uploading


def student_name(given: str | None) -> tuple[str, bool]:
    """The name the zip is called by, and whether it came from the login name."""
    raw, from_login = (given, False) if given else (getpass.getuser(), True)
    # The grader names the student after the zip: keep it a plain, portable file name.
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", raw.strip()).strip("._-")
    if not name:
        raise SelfCheckError(f"'{raw}' cannot be a file name; use letters, digits, '.', '_' or '-'")
    return name, from_login


def pack(bundle: Path, student: str) -> Packed:
    """<bundle>/<student>.zip holding <student>/<exercise id>/<file> for every file found."""
    bundle = Path(bundle)
    archive = bundle / f"{student}.zip"
    files, notes = [], []
    tmp = archive.with_name(archive.name + ".part")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for entry in load_manifest(bundle):
            stubs = entry.get("stub_sha256", {})
            for name in entry["files"]:
                path = bundle / entry["path"] / name
                shown = f"{entry['id']}/{name}"
                if not path.is_file():
                    notes.append(f"{shown} is missing: that exercise will score 0 (not submitted)")
                    continue
                data = path.read_bytes()
                zf.writestr(f"{student}/{shown}", data)
                files.append(shown)
                if hashlib.sha256(data).hexdigest() == stubs.get(name):
                    notes.append(f"{shown} is still the untouched stub")
                problem = _compile_problem(path, data)
                if problem:
                    notes.append(f"{shown} does not compile: {problem}")
    tmp.replace(archive)  # never a half-written zip under the name to upload
    return Packed(archive, student, tuple(files), tuple(notes))


def _compile_problem(path: Path, data: bytes) -> str | None:
    try:
        compile(data, str(path), "exec", dont_inherit=True)
    except SyntaxError as exc:
        return f"line {exc.lineno}: {exc.msg}"
    except ValueError as exc:  # null bytes
        return str(exc)
    return None


def submit(bundle: Path, given_name: str | None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    student, from_login = student_name(given_name)
    packed = pack(bundle, student)
    where = "your login name" if from_login else "STUDENT"
    print(f"Packed {len(packed.files)} file{'s' if len(packed.files) != 1 else ''} as student "
          f"'{student}' (from {where}) into {packed.archive.name}:", file=out)
    for name in packed.files:
        print(f"  {name}", file=out)
    for note in packed.notes:
        print(f"  note: {note}", file=out)
    if from_login:
        print(f"If '{student}' is not the name the course knows you by: make submit STUDENT=yourname",
              file=out)
    print(f"Upload {packed.archive.name} where the course says. It holds only your files, one "
          "folder per exercise.", file=out)
    return 0


# --------------------------------------------------------------------------- command line

def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.selfcheck",
                                     description="The course bundle's self-check and hand-in.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("check", help="run the public tests the way grading runs the hidden ones")
    run.add_argument("bundle", type=Path, nargs="?", default=Path("."))
    run.add_argument("--exercise", action="append", metavar="ID")
    run.add_argument("--verbose", "-v", action="store_true", help="also show the test process's output")
    hand_in = commands.add_parser("submit", help="pack your files into <name>.zip")
    hand_in.add_argument("bundle", type=Path, nargs="?", default=Path("."))
    hand_in.add_argument("--student", metavar="NAME", help="the name to hand in under (default: login name)")
    args = parser.parse_args(argv)
    try:
        if args.command == "check":
            return check(args.bundle, args.exercise, verbose=args.verbose)
        return submit(args.bundle, args.student)
    except (SelfCheckError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
