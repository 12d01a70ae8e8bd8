"""Platform layouts: the folders and zips learning platforms hand a teacher, read as they come.

- canvas: "Download Submissions" is one flat folder of files named
  `name_[LATE_]userid_submissionid_file.py`; a resubmitted file is `file-1.py`, `file-2.py`.
- moodle: "Download all submissions" holds `Full Name_123_assignsubmission_file_/` folders
  (or, unticked "in folders", flat `Full Name_123_assignsubmission_file_counter.py` files).
- gradescope: "Export Submissions" holds `submission_metadata.yml` (names, emails, SIDs,
  times) and one `submission_NNN/` folder per submission.
- github: GitHub Classroom's `gh classroom clone student-repos` holds one cloned repository
  per student, `<assignment>-<login>/`.
- folder: the grader's own layout, one folder (or zip) per student.

`read` is called by `submissions.discover` on the unpacked root; it returns None for the
plain folder layout, which `discover` reads as before. Each student keeps the platform's
id in a `Person` beside the submission. A student's folder is read, and a zip unpacked,
by folders.py, as for the grader's own layout (a file under another name included).
"""
from __future__ import annotations

import dataclasses
import os
import re
import shutil
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable, cast

import yaml

from grader.folders import (MAX_ZIP_DEPTH, Known, Submission, SubmissionError, children, extract,
                            read_folder, staging_dir, unwrap)
from grader.roster import Person

LAYOUTS = ("auto", "folder", "canvas", "moodle", "gradescope", "github")

CANVAS = re.compile(r"^(?P<name>[^_/]+)_(?:(?P<late>late)_)?(?P<id>\d+)_(?P<sub>\d+)_(?P<file>.+)$",
                    re.IGNORECASE)
RESUBMITTED = re.compile(r"^(?P<stem>.+)-(?P<n>\d+)(?P<ext>\.[A-Za-z0-9]+)$")
MOODLE = re.compile(r"^(?P<name>.+?)_(?P<id>\d+)_assignsubmission_(?P<plugin>[a-z]+)(?:_(?P<rest>.*))?$")
GRADESCOPE_METADATA = "submission_metadata.yml"


def read(root: Path, known: Known, layout: str | None,
         archive: Path | None = None) -> list[Submission] | None:
    """The submissions at ROOT laid out as LAYOUT ("auto": detected), or None for the
    grader's own folder layout."""
    kind = detect(root, archive) if layout in (None, "auto") else layout
    if kind == "folder" or kind is None:
        return None
    if kind not in _READERS:
        raise SubmissionError(f"unknown layout '{kind}' (known: {', '.join(LAYOUTS)})")
    found = _READERS[kind](root, known)
    if not found:
        raise SubmissionError(f"{root.name}: read as a {kind} export, but it holds no submission "
                              f"that layout names")
    return found


def detect(root: Path, archive: Path | None = None) -> str | None:
    """The platform whose export ROOT is, from names alone; None when none fits."""
    if (root / GRADESCOPE_METADATA).is_file():
        return "gradescope"
    entries = children(root)
    if not entries:
        return None
    names = [c.name for c in entries]
    if sum(bool(MOODLE.match(n)) for n in names) * 2 > len(names):
        return "moodle"
    files = [c for c in entries if c.is_file()]
    if files and sum(bool(CANVAS.match(f.name)) for f in files) * 2 > len(files) and \
            len(files) * 2 >= len(entries):
        return "canvas"
    folders = [c for c in entries if c.is_dir()]
    if folders and all((f / ".git").exists() for f in folders):
        return "github"
    if archive is not None and folders and _zipped_repositories(archive, {f.name for f in folders}):
        return "github"
    return None


def _zipped_repositories(archive: Path, folders: set[str]) -> bool:
    """Whether each top folder of ARCHIVE held a .git (the unpacking leaves dot folders out)."""
    try:
        with zipfile.ZipFile(archive) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, OSError):
        return False
    with_git = set()
    for name in names:
        parts = [p for p in name.replace("\\", "/").split("/") if p]
        if ".git" in parts:
            at = parts.index(".git")
            if at >= 1:
                with_git.add(parts[at - 1])
    return bool(folders) and folders <= with_git


# ---------------------------------------------------------------- the readers

def student_key(name: str, ident: str) -> str:
    """The gradebook's name for a student: readable, and unique since the id is in it."""
    name = " ".join(name.split())
    return f"{name} ({ident})" if name and name != ident else ident


def _canvas(root: Path, known: Known) -> list[Submission]:
    students: dict[str, dict[str, Any]] = {}
    for child in children(root):
        m = CANVAS.match(child.name)
        if not m or not child.is_file() or child.is_symlink():
            continue
        entry = students.setdefault(m["id"], {"name": m["name"], "late": False, "files": {}})
        entry["late"] |= bool(m["late"])
        name, version = m["file"], 0
        again = RESUBMITTED.match(name)
        if again and not _known_name(name, known) and _known_name(again["stem"] + again["ext"], known):
            name, version = again["stem"] + again["ext"], int(again["n"])
        # The latest version of a file resubmitted several times wins.
        if name not in entry["files"] or entry["files"][name][0] < version:
            entry["files"][name] = (version, child)
    found = []
    for ident, entry in sorted(students.items()):
        folder = staging_dir()
        for name, (_, path) in sorted(entry["files"].items()):
            if path.suffix.lower() == ".zip" and zipfile.is_zipfile(path):
                extract(path, folder / Path(name).stem, depth=min(1, MAX_ZIP_DEPTH))
            else:
                shutil.copyfile(path, folder / name)
        person = Person(ident, name=entry["name"], platform="canvas", late=entry["late"])
        found.append(_with(read_folder(student_key(entry["name"], ident), folder, known), person))
    return found


def _moodle(root: Path, known: Known) -> list[Submission]:
    students: dict[str, dict[str, Any]] = {}
    for child in children(root):
        m = MOODLE.match(child.name)
        if not m:
            continue
        entry = students.setdefault(m["id"], {"name": m["name"], "parts": []})
        entry["parts"].append((child, m["rest"] or ""))
    found = []
    for ident, entry in sorted(students.items(), key=lambda kv: int(kv[0])):
        folder = staging_dir()
        for path, rest in entry["parts"]:
            if path.is_dir():
                _copy_tree(path, folder)
            elif path.is_file() and not path.is_symlink() and rest:
                shutil.copyfile(path, folder / Path(rest).name)
        # A student who uploaded a zip: unpacked beside it, as the class layout does.
        for upload in sorted(folder.glob("*.zip")):
            if zipfile.is_zipfile(upload):
                extract(upload, folder / upload.stem, depth=1)
        person = Person(ident, name=entry["name"], platform="moodle")
        found.append(_with(read_folder(student_key(entry["name"], ident), folder, known), person))
    return found


def _gradescope(root: Path, known: Known) -> list[Submission]:
    metadata = _read_metadata(root / GRADESCOPE_METADATA)
    found = []
    for folder_name, info in sorted(metadata.items(), key=lambda kv: str(kv[0])):
        name = str(folder_name)
        if Path(name).name != name or name.startswith(".") or not isinstance(info, dict):
            continue  # the metadata names folders beside it, nothing else
        folder = root / name
        if folder.is_symlink() or not folder.is_dir():
            continue
        submitters = info.get(":submitters") or info.get("submitters") or [{}]
        when = _iso(info.get(":created_at") or info.get("created_at"))
        for submitter in submitters:
            submitter = submitter if isinstance(submitter, dict) else {}
            name = str(submitter.get(":name") or submitter.get("name") or "")
            email = str(submitter.get(":email") or submitter.get("email") or "")
            sid = str(submitter.get(":sid") or submitter.get("sid") or "")
            ident = sid or email or str(folder_name)
            person = Person(ident, name=name, email=email, platform="gradescope", submitted_at=when)
            found.append(_with(read_folder(student_key(name, ident), unwrap(folder, known), known), person))
    if not found:
        raise SubmissionError(f"{root / GRADESCOPE_METADATA}: names no submission folder found beside it")
    return found


def _github(root: Path, known: Known) -> list[Submission]:
    folders = [c for c in children(root) if c.is_dir()]
    prefix = _assignment_prefix([f.name for f in folders])
    found = []
    for folder in folders:
        login = folder.name[len(prefix):] or folder.name
        # No submission time: a commit's date is the student's to set, and a clone's
        # reflog says when it was cloned, not pushed.
        person = Person(login, name=login, platform="github")
        found.append(_with(read_folder(login, unwrap(folder, known), known), person))
    return found


_READERS: dict[str, Callable[[Path, Known], list[Submission]]] = {
    "canvas": _canvas, "moodle": _moodle, "gradescope": _gradescope, "github": _github}


def _with(submission: Submission, person: Person) -> Submission:
    return dataclasses.replace(submission, person=person)


def _known_name(name: str, known: Known) -> bool:
    return name in known.by_file or name.lower() in {n.lower() for n in known.by_file}


def _copy_tree(source: Path, dest: Path) -> None:
    """Regular files only: a link in a student's folder could point anywhere."""
    for dirpath, dirnames, filenames in os.walk(source):
        here = Path(dirpath)
        dirnames[:] = [d for d in dirnames if not (here / d).is_symlink()]
        target = dest / here.relative_to(source)
        target.mkdir(parents=True, exist_ok=True)
        for name in filenames:
            path = here / name
            if path.is_file() and not path.is_symlink():
                shutil.copyfile(path, target / name)


def _assignment_prefix(names: list[str]) -> str:
    """GitHub Classroom names each repository `<assignment>-<login>`: the common part,
    up to its last dash, is the assignment's."""
    if len(names) < 2:
        return ""
    common = os.path.commonprefix(names)
    return common[:common.rfind("-") + 1] if "-" in common else ""


class _Lenient(yaml.SafeLoader):
    """Gradescope writes Ruby-tagged YAML (`!ruby/hash:...`): read the tags' plain content."""


def _untagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(cast(yaml.ScalarNode, node))  # the only kind left


_Lenient.add_multi_constructor("!", _untagged)


def _read_metadata(path: Path) -> dict[Any, Any]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8", errors="replace"), Loader=_Lenient)
    except yaml.YAMLError as exc:
        raise SubmissionError(f"{path.name}: not readable YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise SubmissionError(f"{path.name}: expected one entry per submission")
    return data


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return str(value) if value else ""


