"""The student bundle: what students download, as a folder and a .zip.

It holds each exercise's statement, stub, given files and public tests, a README and a
Makefile (`make check`, `make submit`), and the grader's runtime (engine and plumbing,
never solutions or hidden tests), so that `make check` runs the public tests with the same
isolation and the same controlled scheduler as the real grading: a race found at home is
a race found when graded.

Every bundle is checked for leaks before it is zipped (`find_leaks`); a bundle that would
reveal a solution or a hidden test is refused, not shipped with a warning.
"""
from __future__ import annotations

import ast
import hashlib
import json
import re
import shutil
import tomllib
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

import jinja2

from grader.catalog import Catalog, Exercise, exercise_to_json
from grader.imports import closure, import_graph, imports_of, module_files
from grader.pythons import TESTED

PACKAGE = Path(__file__).resolve().parent  # the grader package this bundle ships
TEMPLATES = PACKAGE / "bundle_files"
MANIFEST = "course.json"  # the exercises' metadata, as the self-check needs it
RUNTIME = "grader-runtime"  # the shipped grader package lives in this folder of the bundle
PUBLIC_TESTS = "test_public.py"
# What runs on a student's machine: `make check` (grader.selfcheck, grader.pythons) and
# the test process it starts (grader.plugin); with what the shipped exercise files import
# and every module these import in turn, the runtime shipped (`runtime_modules`). Nothing
# else of the package goes: not the class grading, the cluster, the mutants or the reports.
RUNTIME_ENTRIES = ("grader.selfcheck", "grader.pythons", "grader.plugin")
# Runtime dependencies the self-check needs (a subset of the grader's own).
RUNTIME_DEPENDENCIES = ("pytest", "pytest-timeout", "pyyaml", "jinja2", "rich", "psutil")


class BundleError(Exception):
    """The bundle cannot be built, or would reveal what students must not see."""


@dataclass(frozen=True)
class Bundle:
    folder: Path
    archive: Path
    exercises: tuple[str, ...]
    warnings: tuple[str, ...] = ()


def build_bundle(catalog: Catalog, out: Path) -> Bundle:
    """Write the bundle into the folder OUT and the archive OUT.zip; check it for leaks."""
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)  # a stale file from an older build could be a leak
    out.mkdir(parents=True)
    warnings: list[str] = []
    for exercise in catalog.exercises:
        warnings += _copy_exercise(exercise, out / exercise.id)
    _copy_runtime(out / RUNTIME, runtime_modules(catalog))
    (out / MANIFEST).write_text(manifest(catalog), encoding="utf-8")
    _render_templates(catalog, out)

    leaks = find_leaks(out, catalog)
    if leaks:
        shown = "\n  ".join(leaks[:10]) + ("\n  ..." if len(leaks) > 10 else "")
        raise BundleError(f"{out}: the bundle would reveal what students must not see; "
                          f"nothing was zipped:\n  {shown}")
    archive = out.with_name(out.name + ".zip")
    _zip(out, archive)
    return Bundle(out, archive, tuple(e.id for e in catalog.exercises), tuple(warnings))


def _copy_exercise(exercise: Exercise, dest: Path) -> list[str]:
    dest.mkdir()
    warnings = []
    names = ["README.md", *exercise.files, *exercise.given, PUBLIC_TESTS]
    for name in dict.fromkeys(names):
        source = exercise.path / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, dest / name)
        elif name == "README.md":
            warnings.append(f"{exercise.id}: no README.md; students get the stub without a statement")
    return warnings


def runtime_modules(catalog: Catalog) -> set[str]:
    """The modules of the grader a student's self-check can import: the entries, what the
    exercises' shipped Python files import, the instrumented kernels the sandbox stages in
    place of given files (grader/kernels/), and all these import (function-local imports
    included), so the runtime is closed and holds nothing more."""
    graph = import_graph(PACKAGE)
    known = set(graph)
    entries = set(RUNTIME_ENTRIES)
    for exercise in catalog.exercises:
        entries |= {f"grader.kernels.{Path(kernel).stem}" for kernel in exercise.instrumented.values()}
        for name in dict.fromkeys([*exercise.files, *exercise.given, PUBLIC_TESTS]):
            source = exercise.path / name
            if source.suffix == ".py" and source.is_file():
                try:
                    tree = ast.parse(source.read_bytes())
                except (SyntaxError, ValueError):
                    continue  # a stub may be unfinished on purpose: it imports nothing of ours
                entries |= imports_of(tree, "", known)
    return closure(graph, entries)


def _copy_runtime(dest: Path, modules: set[str]) -> None:
    files = module_files(PACKAGE)
    for source in (files[m] for m in sorted(modules)):
        target = dest / "grader" / source.relative_to(PACKAGE)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    dependencies = ",\n".join(f'    "{d}"' for d in _pinned(RUNTIME_DEPENDENCIES))
    # The Pythons the grader is tested on; `make check` warns on any other (grader.pythons).
    classifiers = ",\n".join(f'    "Programming Language :: Python :: {v}"' for v in TESTED)
    (dest / "pyproject.toml").write_text(
        "# The grader's runtime, as shipped to students: `make check` installs it into .venv.\n"
        "[build-system]\nrequires = [\"setuptools>=61\"]\nbuild-backend = \"setuptools.build_meta\"\n\n"
        "[project]\nname = \"concurrency-grader-runtime\"\n"
        f"version = \"{_version()}\"\nrequires-python = \">=3.11\"\n"
        f"classifiers = [\n{classifiers},\n]\n"
        f"dependencies = [\n{dependencies},\n]\n\n"
        "[tool.setuptools.packages.find]\ninclude = [\"grader*\"]\n\n"
        "[tool.setuptools.package-data]\n"
        "grader = [\"kernels/*.py\"]\n",
        encoding="utf-8")


def _pinned(names: tuple[str, ...]) -> list[str]:
    """The grader's own requirement for each name (same lower bounds), else the bare name."""
    project = PACKAGE.parent / "pyproject.toml"
    declared: list[str] = []
    if project.is_file():
        declared = tomllib.loads(project.read_text(encoding="utf-8"))["project"]["dependencies"]
    by_name = {re.split(r"[<>=!~ \[;]", d, maxsplit=1)[0].lower(): d for d in declared}
    return [by_name.get(n, n) for n in names]


def _version() -> str:
    import grader
    return grader.__version__


def manifest(catalog: Catalog) -> str:
    """course.json: what the self-check and `make submit` need to know about each exercise.

    Paths are relative to the bundle (no path of the machine that built it) and the
    solution is left out; hidden test names, titles and points are shown in the
    statements already.
    """
    entries = []
    for exercise in catalog.exercises:
        data = json.loads(exercise_to_json(replace(exercise, path=Path(exercise.id), solution=None)))
        data["points"] = exercise.max_points
        data["stub_sha256"] = {name: _sha256(exercise.path / name) for name in exercise.files}
        data["public_tests"] = (exercise.path / PUBLIC_TESTS).is_file()
        entries.append(data)
    return json.dumps({"exercises": entries}, indent=2) + "\n"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _render_templates(catalog: Catalog, out: Path) -> None:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), keep_trailing_newline=True,
                             undefined=jinja2.StrictUndefined)
    from grader.report.text import number
    exercises = [{"id": e.id, "title": e.title, "topics": ", ".join(e.topics),
                  "points": number(e.max_points), "files": ", ".join(e.files),
                  "public": (e.path / PUBLIC_TESTS).is_file()} for e in catalog.exercises]
    total = number(sum(e.max_points for e in catalog.exercises))
    (out / "README.md").write_text(env.get_template("README.md").render(exercises=exercises, total=total),
                                   encoding="utf-8")
    shutil.copyfile(TEMPLATES / "Makefile", out / "Makefile")


def _zip(folder: Path, archive: Path) -> None:
    """The folder under its own name inside the zip, so unzipping gives one tidy folder."""
    archive.unlink(missing_ok=True)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, Path(folder.name) / path.relative_to(folder))


# ------------------------------------------------------------------------- leaks

# Lines too common to say anything about a solution: a match on them is not a leak.
TRIVIAL = {"pass", "return", "else:", "try:", "finally:", "break", "continue", "...",
           "return None", "return True", "return False", '"""', "'''", ")", "]", "}",
           "):", "),", "],", "},", "except Exception:", "@property", "raise"}


def significant_lines(text: str) -> set[str]:
    """The lines of a Python file that carry its content, whitespace-normalised.

    Blank lines, comments, imports and trivial lines are left out; so are lines with
    fewer than four letters or digits (`x = 0`, `))`), which any file may hold.
    """
    lines = set()
    for raw in text.splitlines():
        line = " ".join(raw.split())
        if not line or line.startswith("#") or line in TRIVIAL:
            continue
        if line.startswith(("import ", "from ")) and " import " in f" {line} ":
            continue
        if len(re.sub(r"\W", "", line)) < 4:
            continue
        lines.add(line)
    return lines


def find_leaks(bundle: Path, catalog: Catalog) -> list[str]:
    """Everything in BUNDLE a student must not see, one line each; empty when clean.

    - a folder named hidden/ or solutions/, or any file identical to a file of solutions/
      or of an exercise's hidden/ folder, wherever it sits;
    - a line of a reference solution (or an alternative) that the exercise's stub (or
      its public tests or given files, as the author wrote them) does not also contain, in
      that exercise's folder or a top-level file of the bundle;
    - the definition of a hidden test (`def test_...(`), in any file.
    """
    leaks: list[str] = []
    secret_files: dict[str, str] = {}  # sha256 -> what it is
    # Per exercise, the lines of its solutions its stub does not hold -> which file. They
    # are looked for in that exercise's folder (and the bundle's top-level files) only: the
    # same line in another exercise's folder is the course's shared idiom there
    # (`self._lock = threading.Lock()` in a public test), not a leak; a whole solution
    # file copied anywhere is still caught by its hash.
    solution_lines: dict[str, dict[str, str]] = {}
    hidden_defs: dict[str, str] = {}
    for exercise in catalog.exercises:
        stub_lines: set[str] = set()
        for name in exercise.files:
            if (exercise.path / name).is_file():
                stub_lines |= significant_lines(_text(exercise.path / name))
        for path in _files(exercise.hidden_dir):
            secret_files[_sha256(path)] = f"hidden test {exercise.id}/hidden/{path.name}"
            for line in significant_lines(_text(path)):
                if re.match(r"(async )?def test_\w*\(", line):
                    hidden_defs[line] = f"{exercise.id}/hidden/{path.name}"
        # The author's own student-facing code (public tests, given helpers) shares idioms
        # with the solution (`with self._lock:` in a fake loader): shipping those is a
        # decision, not an accident, so only lines found nowhere the author meant to ship count.
        shipped_on_purpose = set(stub_lines)
        for name in (*exercise.given, PUBLIC_TESTS):
            if (exercise.path / name).is_file():
                shipped_on_purpose |= significant_lines(_text(exercise.path / name))
        lines_of = solution_lines.setdefault(exercise.id, {})
        if exercise.solution is not None:
            for path in _files(exercise.solution):
                shown = f"solutions/{exercise.id}/{path.relative_to(exercise.solution)}"
                secret_files[_sha256(path)] = shown
                if path.suffix == ".py":
                    for line in significant_lines(_text(path)) - shipped_on_purpose:
                        lines_of.setdefault(line, shown)
    everywhere = {line: shown for lines in solution_lines.values() for line, shown in lines.items()}

    runtime = bundle / RUNTIME
    for path in _files(bundle):
        shown = str(path.relative_to(bundle))
        parts = path.relative_to(bundle).parts
        if any(p in ("hidden", "solutions") for p in parts[:-1]):
            leaks.append(f"{shown}: sits in a folder named {'hidden' if 'hidden' in parts else 'solutions'}/")
        what = secret_files.get(_sha256(path))
        if what:
            leaks.append(f"{shown}: is a copy of {what}")
            continue
        if not _is_text(path):
            continue
        lines = significant_lines(_text(path))
        for line in sorted(lines & hidden_defs.keys()):
            leaks.append(f"{shown}: defines the hidden test of {hidden_defs[line]}: {line}")
        # The runtime is the grader's own code: generic lines (`with self._lock:`) are
        # bound to occur there, so only whole-file copies and hidden tests count in it.
        if runtime in path.parents:
            continue
        watched = everywhere if len(parts) == 1 else solution_lines.get(parts[0], {})
        for line in sorted(lines & watched.keys()):
            leaks.append(f"{shown}: holds a line of {watched[line]} the stub does not: {line}")
    return leaks


def _files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc")


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


def _is_text(path: Path) -> bool:
    return b"\0" not in path.read_bytes()[:8192]
