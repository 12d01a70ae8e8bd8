"""A student's folder and the archives it comes in: what is there, read safely.

Shared by the grader's own layout (submissions.py) and the platforms' (layouts.py), which
both import this module and nothing here imports them:

- `Submission` (one student's files) and `SubmissionError` (a path holding none);
- `Known`: what the catalogue says a submission contains; `is_submission` asks it;
- `read_folder`: the walk of one student's folder (depth-limited, links leaving the
  folder refused) and `complete`, a file handed in under another name (by case, or a .py
  in the exercise folder defining what the stub defines), with `annotate` carrying that
  onto the exercise's result;
- `extract`: a zip unpacked into `staging_dir()` (a temporary folder that lives until the
  grader exits), with paths and sizes checked, per archive and across `one_class()`, so a
  hostile archive cannot write outside it or fill the disk; `unwrap` steps into lone
  wrapper folders.
"""
from __future__ import annotations

import ast
import atexit
import contextlib
import dataclasses
import difflib
import logging
import os
import re
import shutil
import stat
import tempfile
import threading
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator

if TYPE_CHECKING:
    from grader.catalog import Catalog, Exercise
    from grader.model import ExerciseResult

# The name it had before this module was cut out of submissions.py: log filters keep working.
log = logging.getLogger("grader.submissions")

# Platform and OS litter that is never part of a submission.
IGNORED_NAMES = {"__MACOSX", "__pycache__", "Thumbs.db"}
MAX_EXTRACTED_BYTES = 50 * 1024 * 1024
MAX_ZIP_ENTRIES = 20_000
# Zips inside zips (a class zip of student zips, a student folder holding its zip) are
# unpacked this many levels deep; anything deeper is not how platforms export.
MAX_ZIP_DEPTH = 3
# How deep below a student's folder a known file is still looked for (alice/src/race_counter/counter.py).
MAX_SEARCH_DEPTH = 4


# Across one class (every archive and the archives inside them): a nested zip bomb, a class
# zip of student zips each under the per-archive cap, stops here.
MAX_CLASS_BYTES = 256 * 1024 * 1024
MAX_CLASS_ENTRIES = 200_000


# A student file bigger than this is not parsed to look for the stub's definitions.
MAX_PARSED_BYTES = 1 << 20
# How many of the files found instead a "not submitted" names.
MAX_FOUND_INSTEAD = 5


class SubmissionError(Exception):
    """The path given to the grader holds no submission we can read; one line, for a teacher."""


@dataclass(frozen=True)
class Submission:
    student: str
    files: dict[str, Path]  # student file name ("counter.py") -> the file found
    root: Path = field(compare=False)
    # Files found but not graded, and why (a link leaving the student's folder), by file
    # name; "*" when the whole submission was refused (a broken zip, a duplicate name).
    refused: dict[str, str] = field(default_factory=dict, compare=False)
    origin: str = field(default="", compare=False)  # as the teacher sees it: "alice/", "alice.zip"
    # Platform layouts and misnamed files (grader/layouts.py): who the student is on the
    # platform; expected name -> the file graded in its place; exercise -> files seen instead.
    person: Any = field(default=None, compare=False)
    renamed: dict[str, str] = field(default_factory=dict, compare=False)
    found_instead: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False)

    def refusal(self, names: Iterable[str]) -> str | None:
        """Why the first of NAMES (an exercise's files) was refused, or None."""
        for name in names:
            if name in self.refused:
                return self.refused[name]
        return self.refused.get("*")


def refused(student: str, root: Path, why: str, origin: str = "") -> Submission:
    """A submission the grader will not grade, and why (shown in each of its results)."""
    log.warning("%s: %s", student, why)
    return Submission(student, {}, root, {"*": why}, origin)


class Known:
    """What the catalogue says a submission contains: exercise ids and student file names."""

    def __init__(self, catalog: Catalog) -> None:
        self.by_file = catalog.by_file()
        self.ids = {e.id for e in catalog.exercises}
        self.exercises = catalog.exercises

    def example(self) -> str:
        return ", ".join(sorted(self.by_file)[:2]) or "counter.py"

    def is_submission(self, folder: Path) -> bool:
        # One look at the direct children only: a class folder's children are students.
        for child in children(folder):
            if child.is_dir() and child.name in self.ids:
                return True
            if child.is_file() and child.name in self.by_file:
                return True
        return False


def children(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if not ignored(p.name))


def ignored(name: str) -> bool:
    return name.startswith(".") or name in IGNORED_NAMES


def inside(path: Path, folder: Path) -> bool:
    real, root = os.path.realpath(path), os.path.realpath(folder)
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


class _Budget:
    """What all the archives of one `discover` may still write: shared across nesting."""

    def __init__(self) -> None:
        self.bytes, self.entries = MAX_CLASS_BYTES, MAX_CLASS_ENTRIES


_budget = threading.local()


@contextlib.contextmanager
def one_class() -> Iterator[None]:
    """One budget for every archive unpacked inside (a class, whatever the nesting)."""
    _budget.current = _Budget()
    try:
        yield
    finally:
        _budget.current = None


def _class_budget() -> _Budget:
    budget = getattr(_budget, "current", None)
    if budget is None:
        budget = _budget.current = _Budget()
    return budget


def unwrap(folder: Path, known: Known) -> Path:
    """Step into lone wrapper folders ("alice.zip" holding "alice/") until the content shows."""
    for _ in range(MAX_SEARCH_DEPTH):
        if known.is_submission(folder):
            return folder
        inner = children(folder)
        if len(inner) != 1 or not inner[0].is_dir():
            return folder
        folder = inner[0]
    return folder


def read_folder(student: str, root: Path, known: Known, own: Path | None = None) -> Submission:
    """The files of STUDENT under ROOT; a file that is (or lies under) a link leading out of
    the student's own folder OWN (default ROOT) is refused, not graded as theirs."""
    own = own or root
    found: dict[str, list[Path]] = {}
    refusals: dict[str, str] = {}
    # Links are followed (depth-limited, so a loop ends) only to say what they point to.
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        here = Path(dirpath)
        depth = len(here.relative_to(root).parts)
        dirnames[:] = [] if depth >= MAX_SEARCH_DEPTH else sorted(d for d in dirnames if not ignored(d))
        for name in filenames:
            if name in known.by_file and (here / name).is_file():
                if not inside(here / name, own):
                    shown = (here / name).relative_to(root)
                    refusals[name] = (f"{shown} leads out of {student}'s folder (a symbolic link to "
                                      f"{os.path.realpath(here / name)}): refused, a submission is "
                                      f"the student's own files")
                    continue
                found.setdefault(name, []).append(here / name)
    files = {}
    for name, candidates in found.items():
        exercise_id = known.by_file[name].id
        # alice/race_counter/counter.py beats a stray copy elsewhere; then the shallowest.
        files[name] = min(candidates, key=lambda p: (p.parent.name != exercise_id,
                                                     len(p.relative_to(root).parts), str(p)))
    refusals = {n: why for n, why in refusals.items() if n not in files}
    # a file under another name (Counter.py)
    return complete(Submission(student, dict(sorted(files.items())), root, refusals), known.exercises)


def complete(submission: Submission, exercises: Iterable[Exercise]) -> Submission:
    """SUBMISSION with each missing expected file looked for under another name: the same
    name in another case, or else the one .py in the exercise's folder (or at the top)
    that defines every public class and function of the stub. What is found stands in
    for the expected file and is recorded in `renamed`; when nothing fits, the .py files
    seen where it was expected are recorded in `found_instead`."""
    root = Path(submission.root)
    exercises = list(exercises)
    wanted = [(ex, name) for ex in exercises for name in ex.files if name not in submission.files]
    if not wanted or not root.is_dir():
        return submission
    pys = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        depth = len(here.relative_to(root).parts)
        dirnames[:] = [] if depth >= MAX_SEARCH_DEPTH else sorted(
            d for d in dirnames if not ignored(d) and not (here / d).is_symlink())
        pys += [here / n for n in sorted(filenames) if n.lower().endswith(".py") and not ignored(n)
                and (here / n).is_file() and not (here / n).is_symlink()]
    claimed = set(submission.files.values())
    files, renamed = dict(submission.files), {}
    for ex, name in wanted:
        free = [p for p in pys if p not in claimed]
        chosen = _by_case(name, ex, free, root) or _by_definitions(name, ex, free, root)
        if chosen is not None:
            files[name] = chosen
            claimed.add(chosen)
            renamed[name] = chosen.relative_to(root).as_posix()
    found_instead = {}
    for ex in exercises:
        if any(n in files for n in ex.files):
            continue
        seen = [p.relative_to(root).as_posix() for p in pys
                if p not in claimed and (_in_exercise_folder(p, ex, root) or _resembles(p.name, ex))]
        if seen:
            found_instead[ex.id] = tuple(seen[:MAX_FOUND_INSTEAD])
    return dataclasses.replace(submission, files=dict(sorted(files.items())), renamed=renamed,
                               found_instead=found_instead)


def _resembles(name: str, exercise: Exercise) -> bool:
    """A file name close to an expected one (count.py, counter_v2.py for counter.py)."""
    return any(difflib.SequenceMatcher(None, name.lower(), wanted.lower()).ratio() >= 0.7
               for wanted in exercise.files)


def _in_exercise_folder(path: Path, exercise: Exercise, root: Path) -> bool:
    wanted = _folded(exercise.id)
    return any(_folded(part) == wanted for part in path.relative_to(root).parts[:-1])


def _folded(name: str) -> str:
    return re.sub(r"[-_ ]+", "_", name.strip().lower())


def _by_case(name: str, exercise: Exercise, free: list[Path], root: Path) -> Path | None:
    same = [p for p in free if p.name.lower() == name.lower()]
    if not same:
        return None
    return min(same, key=lambda p: (not _in_exercise_folder(p, exercise, root),
                                    len(p.relative_to(root).parts), str(p)))


def _by_definitions(name: str, exercise: Exercise, free: list[Path], root: Path) -> Path | None:
    needed = stub_definitions(exercise.path / name)
    if not needed:
        return None
    places = [p for p in free if _in_exercise_folder(p, exercise, root) or p.parent == root]
    fits = [p for p in places if needed <= _definitions(p)]
    return fits[0] if len(fits) == 1 else None  # two candidates: not ours to choose


@lru_cache(maxsize=256)
def stub_definitions(path: Path) -> frozenset[str]:
    """The public top-level classes and functions the stub defines: the exercise's interface."""
    return _definitions(path)


def _definitions(path: Path) -> frozenset[str]:
    try:
        if path.stat().st_size > MAX_PARSED_BYTES:
            return frozenset()
        tree = ast.parse(path.read_bytes())
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return frozenset()
    return frozenset(node.name for node in tree.body
                     if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                     and not node.name.startswith("_"))


def annotate(result: ExerciseResult, submission: Submission, exercise: Exercise) -> ExerciseResult:
    """RESULT with what `complete` found for EXERCISE: the files graded under another name,
    or those seen instead of a file not submitted."""
    renamed = {n: p for n, p in getattr(submission, "renamed", {}).items() if n in exercise.files}
    instead = tuple(getattr(submission, "found_instead", {}).get(exercise.id, ()))
    if result.status != "not_submitted":
        instead = ()
    if renamed == result.renamed and instead == result.found_instead:
        return result
    return dataclasses.replace(result, renamed=renamed, found_instead=instead)


_staging_root: Path | None = None


def staging_dir() -> Path:
    """A fresh folder for one archive, under a per-process temp dir removed at exit."""
    global _staging_root
    if _staging_root is None:
        _staging_root = Path(tempfile.mkdtemp(prefix="grader-submissions-"))
        atexit.register(shutil.rmtree, _staging_root, True)
    return Path(tempfile.mkdtemp(dir=_staging_root))


def unpacked(path: Path) -> bool:
    """Whether PATH lies in a folder an archive was unpacked to (gone when the grader exits)."""
    return _staging_root is not None and Path(path).resolve().is_relative_to(_staging_root.resolve())


def extract(archive: Path, dest: Path, depth: int) -> Path:
    """Unpack ARCHIVE into DEST, refusing anything that would escape DEST or is too big."""
    try:
        with zipfile.ZipFile(archive) as zf:
            entries = zf.infolist()
            if len(entries) > MAX_ZIP_ENTRIES:
                raise SubmissionError(f"{archive.name}: holds {len(entries):,} entries, more than the {MAX_ZIP_ENTRIES:,} allowed")
            declared = sum(e.file_size for e in entries)
            if declared > MAX_EXTRACTED_BYTES:
                raise SubmissionError(f"{archive.name}: expands to {declared / 2**20:.0f} MB, more than the "
                                      f"{MAX_EXTRACTED_BYTES // 2**20} MB allowed; refusing to unpack it")
            budget = _class_budget()
            budget.entries -= len(entries)
            if budget.entries < 0:
                raise SubmissionError(f"{archive.name}: the class's archives together hold more than "
                                      f"{MAX_CLASS_ENTRIES:,} entries; refusing to unpack more")
            written = 0
            for entry in entries:
                target = _safe_target(archive, dest, entry)
                if target is None:
                    continue
                if entry.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                # Count what really comes out: a header's declared size can lie.
                with zf.open(entry) as src, open(target, "wb") as out:
                    while chunk := src.read(1 << 16):
                        written += len(chunk)
                        budget.bytes -= len(chunk)
                        if budget.bytes < 0:
                            raise SubmissionError(
                                f"{archive.name}: the class's archives, zips inside zips included, "
                                f"together expand to more than {MAX_CLASS_BYTES // 2**20} MB; refusing to unpack more")
                        if written > MAX_EXTRACTED_BYTES:
                            raise SubmissionError(f"{archive.name}: expands to more than "
                                                  f"{MAX_EXTRACTED_BYTES // 2**20} MB; refusing to unpack it")
                        out.write(chunk)
    except zipfile.BadZipFile as exc:
        raise SubmissionError(f"{archive.name}: a damaged zip: {exc}; download it again") from None
    except (zipfile.LargeZipFile, NotImplementedError, RuntimeError) as exc:
        # RuntimeError: an encrypted entry; NotImplementedError: an unknown compression.
        raise SubmissionError(f"{archive.name}: cannot unpack this zip: {exc}") from None
    except OSError as exc:
        raise SubmissionError(f"{archive.name}: cannot unpack this zip: {exc.strerror or exc}") from None
    return dest


def _safe_target(archive: Path, dest: Path, entry: zipfile.ZipInfo) -> Path | None:
    name = entry.filename.replace("\\", "/")  # zips made on Windows
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if name.startswith("/") or (parts and len(parts[0]) == 2 and parts[0][1] == ":"):
        raise SubmissionError(f"{archive.name}: refusing an absolute path inside the zip: {entry.filename}")
    if ".." in parts:
        raise SubmissionError(f"{archive.name}: refusing a path that leaves the zip's folder: {entry.filename}")
    if not parts or any(ignored(p) for p in parts):
        return None
    if stat.S_ISLNK(entry.external_attr >> 16):
        return None  # a symlink could point anywhere on the grading machine
    return dest.joinpath(*parts)
