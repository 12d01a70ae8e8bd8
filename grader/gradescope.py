"""The Gradescope autograder: the zip an instructor uploads, and what runs inside it.

`grader gradescope OUT.zip` writes, following Gradescope's autograder specification:

    setup.sh          run once when Gradescope builds the image: a virtual environment in
                      source/, the grader installed into it (its dependencies from PyPI)
    run_autograder    run per submission: grades /autograder/submission, writes
                      /autograder/results/results.json
    grader-src/       the grader package, as pip installs it
    exercises/<id>/   exercise.yaml, stubs, given files and hidden tests; never a solution
    autograder.json   which exercises, and when students see each one's test details

Gradescope unpacks the zip into /autograder/source. The root (/autograder) can be moved
with the environment variable GRADER_AUTOGRADER_ROOT, which is how the tests run both
scripts for real in a temporary folder.

In results.json the score and the one-line summary per exercise are always visible; each
test carries its exercise's visibility (visible, hidden, after_due_date, after_published),
and the top-level output (the student's report as text) shows a test's name and message
only for exercises whose tests are visible now, so hidden-test details wait for the date
the instructor chose. When the setup, not the student, is broken (no test of any exercise
could start), run_autograder writes no result, says why on stderr and exits 1: Gradescope
then shows "the autograder failed" to staff, instead of a zero for the student.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import stat
import sys
import time
import zipfile
from pathlib import Path
from typing import Any, Sequence

import grader
from grader.catalog import Catalog, Exercise
from grader.model import SubmissionResult

PACKAGE = Path(__file__).resolve().parent
ROOT_VARIABLE = "GRADER_AUTOGRADER_ROOT"
CONFIG = "autograder.json"
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
# Instructor-only parts of the package, of no use inside the autograder.
NOT_SHIPPED = {"site_templates", "bundle_files", "__pycache__"}

SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder's image.
set -euo pipefail
SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
pick() {  # the first Python 3.11 or newer with venv
    for candidate in python3.13 python3.12 python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c \\
                'import sys, venv; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"; return
        fi
    done
}
PY="$(pick)"
CAN_APT=no
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then CAN_APT=yes; fi
if [ -z "$PY" ] && [ "$CAN_APT" = yes ]; then
    # Gradescope's Ubuntu 22.04 image has Python 3.10: its python3.11 package is newer.
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3.11 python3.11-venv \\
        || DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3 python3-venv
    PY="$(pick)"
fi
if [ -z "$PY" ]; then
    echo "setup.sh: the grader needs Python 3.11 or newer, and none could be installed" >&2
    exit 1
fi
if ! command -v bwrap >/dev/null 2>&1 && [ "$CAN_APT" = yes ]; then
    # The sandbox; where it cannot work the grader runs tests in plain child processes.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q bubblewrap || true
fi
"$PY" -m venv "$SOURCE/venv"
"$SOURCE/venv/bin/python" -m pip install -q "$SOURCE/grader-src"
"$SOURCE/venv/bin/python" -m grader.gradescope check --source "$SOURCE"
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this for each submission.
set -uo pipefail
ROOT="${GRADER_AUTOGRADER_ROOT:-/autograder}"
exec "$ROOT/source/venv/bin/python" -m grader.gradescope run --root "$ROOT"
"""

README = """\
Gradescope autograder built by concurrency-grader {version}.
Upload this zip as the autograder of a Gradescope programming assignment
(Ubuntu base image). Students upload their files (counter.py ...) or exercise folders.
"""


class AutograderError(Exception):
    """The autograder cannot be built as asked; one line, for the instructor."""


def parse_visibility(values: Sequence[str] | None, ids: Sequence[str],
                     defaults: dict[str, str] | None = None) -> dict[str, str]:
    """--visibility VIS (every exercise) and --visibility ID=VIS (one) -> exercise -> VIS;
    an exercise the options do not name keeps DEFAULTS' (exercise.yaml's feedback)."""
    parsed = []
    for value in values or ():
        target, _, vis = value.rpartition("=")
        if vis not in VISIBILITIES:
            raise AutograderError(f"--visibility {value}: expected one of {', '.join(VISIBILITIES)}")
        if target and target not in ids:
            raise AutograderError(f"--visibility {value}: '{target}' is not an exercise of "
                                  f"this autograder ({', '.join(ids)})")
        parsed.append((target, vis))
    # The default for every exercise first, then the exercises named one by one.
    default = next((vis for target, vis in reversed(parsed) if not target), None)
    base = {i: default or (defaults or {}).get(i, "visible") for i in ids}
    return base | {target: vis for target, vis in parsed if target}


def build_autograder(catalog: Catalog, exercises: Sequence[Exercise], out: Path,
                     visibility: dict[str, str]) -> Path:
    """Write the autograder zip OUT for EXERCISES; refuse to ship a solution."""
    out = Path(out)
    if out.suffix.lower() != ".zip":
        raise AutograderError(f"{out}: the autograder is a .zip (Gradescope wants one)")
    solutions = _solution_digests(exercises)
    entries: dict[str, bytes] = {}
    for exercise in exercises:
        for path in sorted(exercise.path.rglob("*")):
            relative = path.relative_to(exercise.path)
            if not path.is_file() or any(p in NOT_SHIPPED or p.startswith(".") for p in relative.parts):
                continue
            data = path.read_bytes()
            if hashlib.sha256(data).hexdigest() in solutions:
                raise AutograderError(f"{path}: identical to a reference solution; refusing to "
                                      f"ship it in the autograder")
            entries[f"exercises/{exercise.id}/{relative.as_posix()}"] = data
    for path in sorted(PACKAGE.rglob("*")):
        relative = path.relative_to(PACKAGE)
        if path.is_file() and not any(p in NOT_SHIPPED for p in relative.parts) \
                and path.suffix != ".pyc":
            entries[f"grader-src/grader/{relative.as_posix()}"] = path.read_bytes()
    entries["grader-src/pyproject.toml"] = _pyproject().encode()
    entries["grader-src/README.md"] = README.format(version=grader.__version__).encode()
    entries[CONFIG] = json.dumps({
        "grader_version": grader.__version__,
        "exercises": [e.id for e in exercises],
        "visibility": visibility,
    }, indent=2).encode()
    entries["README.txt"] = README.format(version=grader.__version__).encode()
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, script in (("setup.sh", SETUP_SH), ("run_autograder", RUN_AUTOGRADER)):
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = (stat.S_IFREG | 0o755) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, script)
        for name, data in sorted(entries.items()):
            zf.writestr(name, data)
    return out


def _solution_digests(exercises: Sequence[Exercise]) -> set[str]:
    digests = set()
    for exercise in exercises:
        if exercise.solution is not None:
            for path in exercise.solution.rglob("*.py"):
                digests.add(hashlib.sha256(path.read_bytes()).hexdigest())
    return digests


def _pyproject() -> str:
    """The grader's own pyproject.toml when it is there (a checkout), else a minimal one
    naming the same runtime dependencies."""
    own = PACKAGE.parent / "pyproject.toml"
    if own.is_file():
        return own.read_text(encoding="utf-8")
    from importlib.metadata import requires
    needs = [r for r in (requires("concurrency-grader") or []) if "extra ==" not in r]
    return ("[build-system]\nrequires = [\"setuptools>=61\"]\nbuild-backend = \"setuptools.build_meta\"\n\n"
            f"[project]\nname = \"concurrency-grader\"\nversion = \"{grader.__version__}\"\n"
            f"requires-python = \">=3.11\"\ndependencies = {json.dumps(needs)}\n\n"
            "[tool.setuptools.packages.find]\ninclude = [\"grader*\"]\n\n"
            "[tool.setuptools.package-data]\ngrader = [\"report/*.html\", \"report/*.css\", \"kernels/*.py\"]\n")


# ---------------------------------------------------------------- inside Gradescope

def run(root: Path) -> int:
    """Grade ROOT/submission with the exercises in ROOT/source; write ROOT/results/results.json."""
    from grader import runner
    from grader.catalog import load_catalog
    from grader.health import setup_failure
    from grader.folders import Known, Submission, annotate, read_folder, unwrap
    from grader.report.render import machine

    source = root / "source"
    config = json.loads((source / CONFIG).read_text(encoding="utf-8"))
    catalog = load_catalog(source / "exercises", solutions_root=source / "no-solutions")
    exercises = [catalog.get(i) for i in config["exercises"]]
    metadata = _metadata(root / "submission_metadata.json")
    student = ", ".join(u.get("name") or u.get("email") or "" for u in metadata.get("users", [])) or "student"
    folder = root / "submission"
    known = Known(catalog)
    submission = (read_folder(student, unwrap(folder, known), known) if folder.is_dir()
                  else Submission(student, {}, folder))
    started = time.monotonic()
    graded = []
    for exercise in exercises:
        outcome = runner.grade_exercise(submission, exercise)
        graded.append(annotate(outcome, submission, exercise))
    result = SubmissionResult(student, tuple(graded))
    broken = setup_failure([result], exercises)
    if broken is not None:
        # No result at all beats a zero the student did not earn: Gradescope tells staff.
        print(f"grader: the autograder's setup is broken, not the submission: {broken}",
              file=sys.stderr)
        return 1
    document = results_json(result, config.get("visibility", {}), machine(),
                            time.monotonic() - started)
    results = root / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "results.json").write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(document["output"])
    return 0


def _metadata(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def results_json(result: SubmissionResult, visibility: dict[str, str], where: dict[str, Any],
                 seconds: float) -> dict[str, Any]:
    """Gradescope's results.json: per-test visibility, the report as output, the machine."""
    from grader.report.exports import gradescope
    document = gradescope(result)
    by_exercise = {ex.exercise: ex for ex in result.exercises}
    for test in document["tests"]:
        test["visibility"] = visibility.get(test["tags"][0], "visible")
    document["output"] = student_text(result, visibility, where)
    document["output_format"] = "text"
    document["execution_time"] = round(seconds, 2)
    document["visibility"] = "visible"
    document["stdout_visibility"] = "hidden"
    document["extra_data"]["machine"] = where
    document["extra_data"]["deferred"] = sorted(
        ex for ex in by_exercise if visibility.get(ex, "visible") != "visible")
    return document


def student_text(result: SubmissionResult, visibility: dict[str, str], where: dict[str, Any]) -> str:
    """The student's report as plain text: each exercise's points and file notes; the tests'
    names and messages only where they are visible now."""
    from grader.feedback import WAITS_FOR
    from grader.report.text import exercise_line, number, outcome_text, result_notes
    lines = [f"{number(result.points)}/{number(result.max_points)} points", ""]
    for ex in result.exercises:
        lines.append(exercise_line(ex))
        lines += [f"  note: {n}" for n in result_notes(ex)]
        vis = visibility.get(ex.exercise, "visible")
        if vis != "visible":
            lines.append(f"  the hidden tests' names and messages {WAITS_FOR[vis]}")
        else:
            for t in ex.tests:
                mark = "passed" if t.passed else "FAILED"
                lines.append(f"  [{mark}] {t.title} ({number(t.points)}/{number(t.max_points)})")
                if not t.passed:
                    lines += ["      " + line for line in outcome_text(t).splitlines()]
        lines.append("")
    lines.append(f"Graded by concurrency-grader {grader.__version__} on Python {where.get('python')}, "
                 f"{where.get('cores')} usable cores, {where.get('system')}, load {where.get('load')}.")
    return "\n".join(lines)


def check(source: Path) -> int:
    """What setup.sh ends with: the shipped catalogue loads, and no solution came along."""
    from grader.catalog import load_catalog
    config = json.loads((source / CONFIG).read_text(encoding="utf-8"))
    catalog = load_catalog(source / "exercises", solutions_root=source / "no-solutions")
    for ex_id in config["exercises"]:
        catalog.get(ex_id)
    print(f"autograder ready: {len(config['exercises'])} exercises, grader {grader.__version__}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.gradescope")
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run")
    run_parser.add_argument("--root", default=os.environ.get(ROOT_VARIABLE, "/autograder"))
    check_parser = commands.add_parser("check")
    check_parser.add_argument("--source", required=True)
    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            return run(Path(args.root))
        return check(Path(args.source))
    except Exception as exc:  # one line in the autograder's log, never a bare traceback
        print(f"grader: the autograder failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
