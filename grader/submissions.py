"""Finding students' submissions in what a teacher hands the grader.

A teacher points the grader at one student's folder, at a class folder, or at the .zip a
learning platform exports; the grader works out which of these it is and returns one
`Submission` per student. Reading one student's folder and unpacking zips safely is
folders.py's (shared with the platforms' layouts, layouts.py); this module decides what a
path is and walks a class.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import zipfile
from pathlib import Path

from grader import layouts
from grader.catalog import Catalog
from grader.folders import (IGNORED_NAMES, MAX_ZIP_DEPTH, Known, Submission, SubmissionError,
                            children, extract, inside, one_class, read_folder, refused, staging_dir,
                            unpacked, unwrap)

# Who imports these from here keeps doing so: a submission is what this module returns.
__all__ = ["Submission", "SubmissionError", "discover", "refused", "unpacked"]

log = logging.getLogger(__name__)


def discover(path: Path, catalog: Catalog, layout: str | None = None) -> list[Submission]:
    """The submissions at PATH: one submission folder, a class folder, a .zip of either, or
    one student file; or a platform's export (LAYOUT, detected when None: grader/layouts.py)."""
    with one_class():  # one budget per class, whatever the nesting
        return _discover(path, catalog, layout)


def _discover(path: Path, catalog: Catalog, layout: str | None) -> list[Submission]:
    given = Path(path)
    if not given.exists():
        raise SubmissionError(f"{given}: no such file or folder")
    path = given.resolve()  # the files found stay valid whatever the working directory becomes
    known = Known(catalog)
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
        root = unwrap(extract(path, staging_dir(), depth=0), known)
        name = path.stem
    else:
        root, name = path, path.name
    platform = layouts.read(root, known, layout, path if path.is_file() else None)
    if platform is not None:
        submissions = platform
    elif known.is_submission(root):
        submissions = [read_folder(name, root, known)]
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


def _looks_zipped(path: Path) -> bool:
    """Named .zip, or starting as a zip does: a file zipfile cannot open is then damaged."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(4)
    except OSError:
        return False
    return path.suffix.lower() == ".zip" or head == b"PK\x03\x04"


def _class(root: Path, known: Known, depth: int) -> list[Submission]:
    submissions = []
    for child in sorted(p for p in root.iterdir() if p.name not in IGNORED_NAMES):
        if child.name.startswith("."):
            # A hidden folder is graded when it holds a submission (a student's name may
            # start with a dot); anything else there (.git, .DS_Store) is said, then skipped.
            if not (child.is_dir() and not child.is_symlink() and known.is_submission(unwrap(child, known))):
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


def _one_of_class(child: Path, root: Path, known: Known, depth: int) -> Submission | None:
    if child.is_symlink():
        # A cloned repository can hold links: to the reference solution, to a classmate's
        # folder. A student's submission is the student's own files.
        name = child.stem if child.suffix.lower() == ".zip" else child.name
        return refused(name, child, f"{child.name} is a symbolic link (to {os.readlink(child)}), "
                                    f"not a submission: refused")
    if child.is_dir():
        folder, own = unwrap(child, known), child
        # Some platforms put each student's upload, itself a zip, in a folder of their own.
        if not known.is_submission(folder) and depth < MAX_ZIP_DEPTH:
            zips = [p for p in children(folder) if p.is_file() and p.suffix.lower() == ".zip"]
            if len(zips) == 1:
                if zips[0].is_symlink() and not inside(zips[0], child):
                    raise SubmissionError(f"{zips[0].name} is a symbolic link out of {child.name}/: refused")
                folder = own = unwrap(extract(zips[0], staging_dir(), depth + 1), known)
        return read_folder(child.name, folder, known, own=own)
    if child.suffix.lower() == ".zip" and depth < MAX_ZIP_DEPTH:
        if not zipfile.is_zipfile(child):
            raise SubmissionError(f"{child.name}: not a zip file (damaged, or renamed?)")
        folder = unwrap(extract(child, staging_dir(), depth + 1), known)
        return read_folder(child.stem, folder, known)
    return None


