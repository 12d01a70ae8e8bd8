"""Finding students' submissions in what a teacher hands the grader.

A teacher points the grader at one student's folder, at a class folder, or at the .zip a
learning platform exports; the grader works out which of these it is and returns one
`Submission` per student. Zips are unpacked into a temporary folder that lives until the
grader exits, with paths and sizes checked so a hostile archive cannot write outside it.
"""
from __future__ import annotations

import atexit
import dataclasses
import logging
import os
import shutil
import stat
import tempfile
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from grader.catalog import Catalog

log = logging.getLogger(__name__)

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


class _Budget:
    """What all the archives of one `discover` may still write: shared across nesting."""

    def __init__(self) -> None:
        self.bytes, self.entries = MAX_CLASS_BYTES, MAX_CLASS_ENTRIES


_budget = threading.local()


def _class_budget() -> _Budget:
    budget = getattr(_budget, "current", None)
    if budget is None:
        budget = _budget.current = _Budget()
    return budget


def discover(path: Path, catalog: Catalog, layout: str | None = None) -> list[Submission]:
    """The submissions at PATH: one submission folder, a class folder, a .zip of either, or
    one student file; or a platform's export (LAYOUT, detected when None: grader/layouts.py)."""
    _budget.current = _Budget()  # one budget per class, whatever the nesting
    try:
        return _discover(path, catalog, layout)
    finally:
        _budget.current = None


def _discover(path: Path, catalog: Catalog, layout: str | None) -> list[Submission]:
    given = Path(path)
    if not given.exists():
        raise SubmissionError(f"{given}: no such file or folder")
    path = given.resolve()  # the files found stay valid whatever the working directory becomes
    known = _Known(catalog)
    if path.is_file() and path.name in known.by_file:
        # One student file on its own (`grader replay alice/counter.py ...`).
        return [Submission(path.parent.name, {path.name: path}, path.parent)]
    if path.is_file():
        if not zipfile.is_zipfile(path) and _looks_zipped(path):
            raise SubmissionError(f"{given}: a damaged zip (its table of contents is missing or "
                                  f"cut short: an interrupted download?); download it again")
        if not zipfile.is_zipfile(path):
            raise SubmissionError(
                f"{given}: not a folder or a .zip; expected a student's folder, a class folder or a .zip of either")
        root = _unwrap(_extract(path, _staging_dir(), depth=0), known)
        name = path.stem
    else:
        root, name = path, path.name
    from grader import layouts
    platform = layouts.read(root, known, layout, path if path.is_file() else None)
    if platform is not None:
        submissions = platform
    elif known.is_submission(root):
        submissions = [_submission(name, root, known)]
    else:
        submissions = _class(root, known, depth=1 if path.is_file() else 0)
    if not submissions or not any(s.files or s.refused for s in submissions):
        raise SubmissionError(
            f"{given}: nothing that looks like a submission; expected a student's folder holding "
            f"exercise folders or files such as {known.example()}, or a class folder (or .zip) of such folders")
    return sorted(_without_duplicates(submissions), key=lambda s: s.student)


def _without_duplicates(submissions: list[Submission]) -> list[Submission]:
    """Two submissions under one name (alice/ and alice.zip): neither is graded, both are
    named in that student's result, and the rest of the class is graded as usual."""
    by_name: dict[str, list[Submission]] = {}
    for s in submissions:
        by_name.setdefault(s.student, []).append(s)
    kept = []
    for name, group in by_name.items():
        if len(group) == 1:
            kept.append(group[0])
            continue
        where = " and ".join(sorted(g.origin or g.student for g in group))
        kept.append(refused(name, group[0].root, f"two submissions are both named '{name}' ({where}); "
                                                  f"neither was graded: keep one and grade again"))
    return kept


def refused(student: str, root: Path, why: str, origin: str = "") -> Submission:
    """A submission the grader will not grade, and why (shown in each of its results)."""
    log.warning("%s: %s", student, why)
    return Submission(student, {}, root, {"*": why}, origin)


def _looks_zipped(path: Path) -> bool:
    """Named .zip, or starting as a zip does: a file zipfile cannot open is then damaged."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(4)
    except OSError:
        return False
    return path.suffix.lower() == ".zip" or head == b"PK\x03\x04"


class _Known:
    """What the catalogue says a submission contains: exercise ids and student file names."""

    def __init__(self, catalog: Catalog) -> None:
        self.by_file = catalog.by_file()
        self.ids = {e.id for e in catalog.exercises}
        self.exercises = catalog.exercises

    def example(self) -> str:
        return ", ".join(sorted(self.by_file)[:2]) or "counter.py"

    def is_submission(self, folder: Path) -> bool:
        # One look at the direct children only: a class folder's children are students.
        for child in _children(folder):
            if child.is_dir() and child.name in self.ids:
                return True
            if child.is_file() and child.name in self.by_file:
                return True
        return False


def _children(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if not _ignored(p.name))


def _ignored(name: str) -> bool:
    return name.startswith(".") or name in IGNORED_NAMES


def _inside(path: Path, folder: Path) -> bool:
    real, root = os.path.realpath(path), os.path.realpath(folder)
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


def _class(root: Path, known: _Known, depth: int) -> list[Submission]:
    submissions = []
    for child in sorted(p for p in root.iterdir() if p.name not in IGNORED_NAMES):
        if child.name.startswith("."):
            # A hidden folder is graded when it holds a submission (a student's name may
            # start with a dot); anything else there (.git, .DS_Store) is said, then skipped.
            if not (child.is_dir() and not child.is_symlink() and known.is_submission(_unwrap(child, known))):
                log.info("skipped %s: a hidden entry of the class folder that holds no submission", child.name)
                continue
        try:
            submission = _one_of_class(child, root, known, depth)
        except SubmissionError as exc:  # this student's archive, not the class: grade the rest
            submission = refused(child.stem if child.suffix.lower() == ".zip" else child.name, child,
                                 str(exc))
        if submission is not None:
            origin = child.name + ("/" if child.is_dir() else "")
            submissions.append(dataclasses.replace(submission, origin=origin))
    return submissions


def _one_of_class(child: Path, root: Path, known: _Known, depth: int) -> Submission | None:
    if child.is_symlink():
        # A cloned repository can hold links: to the reference solution, to a classmate's
        # folder. A student's submission is the student's own files.
        name = child.stem if child.suffix.lower() == ".zip" else child.name
        return refused(name, child, f"{child.name} is a symbolic link (to {os.readlink(child)}), "
                                    f"not a submission: refused")
    if child.is_dir():
        folder, own = _unwrap(child, known), child
        # Some platforms put each student's upload, itself a zip, in a folder of their own.
        if not known.is_submission(folder) and depth < MAX_ZIP_DEPTH:
            zips = [p for p in _children(folder) if p.is_file() and p.suffix.lower() == ".zip"]
            if len(zips) == 1:
                if zips[0].is_symlink() and not _inside(zips[0], child):
                    raise SubmissionError(f"{zips[0].name} is a symbolic link out of {child.name}/: refused")
                folder = own = _unwrap(_extract(zips[0], _staging_dir(), depth + 1), known)
        return _submission(child.name, folder, known, own=own)
    if child.suffix.lower() == ".zip" and depth < MAX_ZIP_DEPTH:
        if not zipfile.is_zipfile(child):
            raise SubmissionError(f"{child.name}: not a zip file (damaged, or renamed?)")
        folder = _unwrap(_extract(child, _staging_dir(), depth + 1), known)
        return _submission(child.stem, folder, known)
    return None


def _unwrap(folder: Path, known: _Known) -> Path:
    """Step into lone wrapper folders ("alice.zip" holding "alice/") until the content shows."""
    for _ in range(MAX_SEARCH_DEPTH):
        if known.is_submission(folder):
            return folder
        children = _children(folder)
        if len(children) != 1 or not children[0].is_dir():
            return folder
        folder = children[0]
    return folder


def _submission(student: str, root: Path, known: _Known, own: Path | None = None) -> Submission:
    """The files of STUDENT under ROOT; a file that is (or lies under) a link leading out of
    the student's own folder OWN (default ROOT) is refused, not graded as theirs."""
    own = own or root
    found: dict[str, list[Path]] = {}
    refusals: dict[str, str] = {}
    # Links are followed (depth-limited, so a loop ends) only to say what they point to.
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        here = Path(dirpath)
        depth = len(here.relative_to(root).parts)
        dirnames[:] = [] if depth >= MAX_SEARCH_DEPTH else sorted(d for d in dirnames if not _ignored(d))
        for name in filenames:
            if name in known.by_file and (here / name).is_file():
                if not _inside(here / name, own):
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
    from grader.layouts import complete  # a file under another name (Counter.py)
    return complete(Submission(student, dict(sorted(files.items())), root, refusals), known.exercises)


_staging_root: Path | None = None


def _staging_dir() -> Path:
    """A fresh folder for one archive, under a per-process temp dir removed at exit."""
    global _staging_root
    if _staging_root is None:
        _staging_root = Path(tempfile.mkdtemp(prefix="grader-submissions-"))
        atexit.register(shutil.rmtree, _staging_root, True)
    return Path(tempfile.mkdtemp(dir=_staging_root))


def unpacked(path: Path) -> bool:
    """Whether PATH lies in a folder an archive was unpacked to (gone when the grader exits)."""
    return _staging_root is not None and Path(path).resolve().is_relative_to(_staging_root.resolve())


def _extract(archive: Path, dest: Path, depth: int) -> Path:
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
    if not parts or any(_ignored(p) for p in parts):
        return None
    if stat.S_ISLNK(entry.external_attr >> 16):
        return None  # a symlink could point anywhere on the grading machine
    return dest.joinpath(*parts)
