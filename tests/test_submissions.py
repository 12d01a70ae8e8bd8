"""Finding submissions: one student's folder, a class folder, zips of either, and errors."""
from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from grader import folders, submissions
from grader.catalog import Catalog
from grader.submissions import SubmissionError, discover

FIXTURES = Path(__file__).parent / "fixtures"


def write(path: Path, text: str = "x = 1\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def make_zip(path: Path, entries: dict[str, str | bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in entries.items():
            zf.writestr(name, content)
    return path


def zip_folder(folder: Path, archive: Path, prefix: str = "") -> Path:
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, prefix + path.relative_to(folder).as_posix())
    return archive


def summary(found: list[submissions.Submission]) -> dict[str, dict[str, str]]:
    """student -> file name -> where it was found below the submission's root."""
    return {s.student: {name: path.relative_to(s.root).as_posix() for name, path in s.files.items()}
            for s in found}


def test_one_submission_with_exercise_folders(tmp_path: Path, fixture_catalog: Catalog) -> None:
    write(tmp_path / "alice" / "basic" / "basic.py")
    write(tmp_path / "alice" / "zoo" / "zoo.py")
    found = discover(tmp_path / "alice", fixture_catalog)
    assert summary(found) == {"alice": {"basic.py": "basic/basic.py", "zoo.py": "zoo/zoo.py"}}
    assert found[0].root == tmp_path / "alice"


def test_one_flat_submission(tmp_path: Path, fixture_catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "alice" / "basic.py")
    write(tmp_path / "alice" / "notes.txt")
    monkeypatch.chdir(tmp_path)
    (found,) = discover(Path("alice"), fixture_catalog)
    assert summary([found]) == {"alice": {"basic.py": "basic.py"}}
    assert found.files["basic.py"].is_absolute()  # still valid after a chdir


def test_one_student_file_on_its_own(tmp_path: Path, fixture_catalog: Catalog) -> None:
    path = write(tmp_path / "alice" / "basic.py")
    write(tmp_path / "alice" / "zoo.py")
    assert discover(path, fixture_catalog) == [submissions.Submission("alice", {"basic.py": path}, path.parent)]


def test_the_exercise_folder_wins_over_a_stray_copy(tmp_path: Path, fixture_catalog: Catalog) -> None:
    write(tmp_path / "alice" / "basic.py", "old")
    write(tmp_path / "alice" / "basic" / "basic.py", "new")
    (found,) = discover(tmp_path / "alice", fixture_catalog)
    assert found.files["basic.py"].read_text() == "new"


def test_class_folder(tmp_path: Path, fixture_catalog: Catalog) -> None:
    klass = tmp_path / "class"
    write(klass / "alice" / "basic" / "basic.py")
    write(klass / "bob" / "basic.py")
    write(klass / "carol" / "readme.txt")  # submitted nothing we grade: still a student
    write(klass / "dave" / "homework" / "src" / "zoo.py")  # nested deeper than asked
    write(klass / "__MACOSX" / "alice" / "basic.py")
    write(klass / ".DS_Store")
    write(klass / "alice" / "__pycache__" / "zoo.py")
    found = discover(klass, fixture_catalog)
    assert summary(found) == {
        "alice": {"basic.py": "basic/basic.py"},
        "bob": {"basic.py": "basic.py"},
        "carol": {},
        "dave": {"zoo.py": "zoo.py"},  # below lone wrapper folders, unwrapped
    }


def test_zip_of_a_class_with_one_top_folder(tmp_path: Path, fixture_catalog: Catalog) -> None:
    archive = make_zip(tmp_path / "export.zip", {
        "class/alice/basic/basic.py": "a", "class/bob/basic.py": "b", "__MACOSX/class/._bob": "junk"})
    found = discover(archive, fixture_catalog)
    assert [s.student for s in found] == ["alice", "bob"]
    assert found[1].files["basic.py"].read_text() == "b"
    assert tmp_path not in found[0].files["basic.py"].parents  # unpacked elsewhere


def test_zip_per_student_in_a_class_folder_and_in_a_class_zip(tmp_path: Path, fixture_catalog: Catalog) -> None:
    klass = tmp_path / "class"
    klass.mkdir()
    make_zip(klass / "alice.zip", {"basic/basic.py": "a"})  # content at the top
    make_zip(klass / "bob.zip", {"bob/basic.py": "b"})  # one folder inside
    assert summary(discover(klass, fixture_catalog)) == {
        "alice": {"basic.py": "basic/basic.py"}, "bob": {"basic.py": "basic.py"}}
    outer = zip_folder(klass, tmp_path / "class.zip")
    found = discover(outer, fixture_catalog)
    assert {s.student: s.files["basic.py"].read_text() for s in found} == {"alice": "a", "bob": "b"}


def test_platform_folder_per_student_holding_a_zip(tmp_path: Path, fixture_catalog: Catalog) -> None:
    klass = tmp_path / "class"
    (klass / "Alice Smith_123_assignsubmission_file_").mkdir(parents=True)
    make_zip(klass / "Alice Smith_123_assignsubmission_file_" / "hw.zip", {"hw/zoo/zoo.py": "z"})
    (found,) = discover(klass, fixture_catalog)
    assert found.student == "Alice Smith (123)"  # Moodle's layout: the name and the participant id
    assert (found.person.id, found.person.platform) == ("123", "moodle")
    assert found.files["zoo.py"].read_text() == "z"


def test_zip_of_one_submission_is_named_after_the_zip(tmp_path: Path, fixture_catalog: Catalog) -> None:
    archive = make_zip(tmp_path / "alice.zip", {"work/basic/basic.py": "a", "work/zoo.py": "z"})
    assert summary(discover(archive, fixture_catalog)) == {
        "alice": {"basic.py": "basic/basic.py", "zoo.py": "zoo.py"}}


def test_exercises_and_solutions_are_one_submission_each(tmp_path: Path, fixture_catalog: Catalog) -> None:
    (stubs,) = discover(FIXTURES / "exercises", fixture_catalog)
    assert stubs.student == "exercises"
    assert stubs.files == {"basic.py": FIXTURES / "exercises" / "basic" / "basic.py",
                           "zoo.py": FIXTURES / "exercises" / "zoo" / "zoo.py"}
    solutions = tmp_path / "solutions"
    write(solutions / "basic" / "basic.py")
    write(solutions / "zoo" / "zoo.py")
    write(solutions / "README.md")
    (found,) = discover(solutions, fixture_catalog)
    assert (found.student, sorted(found.files)) == ("solutions", ["basic.py", "zoo.py"])


@pytest.mark.parametrize("entry", ["../evil.py", "/etc/evil.py", "a/../../evil.py", "C:/evil.py"])
def test_zip_paths_that_escape_are_refused(tmp_path: Path, fixture_catalog: Catalog, entry: str) -> None:
    archive = make_zip(tmp_path / "bad.zip", {"basic.py": "x", entry: "boom"})
    with pytest.raises(SubmissionError, match=r"^bad\.zip: refusing .*evil\.py$"):
        discover(archive, fixture_catalog)
    assert not (tmp_path.parent / "evil.py").exists()


def test_zip_symlinks_are_not_followed(tmp_path: Path, fixture_catalog: Catalog) -> None:
    archive = tmp_path / "links.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        link = zipfile.ZipInfo("alice/basic.py")
        link.external_attr = (0o120777 << 16)  # a symlink to the grader's secrets
        zf.writestr(link, "/etc/passwd")
        zf.writestr("alice/zoo.py", "z")
    (found,) = discover(archive, fixture_catalog)
    assert sorted(found.files) == ["zoo.py"]


def test_zip_too_big_is_refused(tmp_path: Path, fixture_catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(folders, "MAX_EXTRACTED_BYTES", 10_000)
    archive = make_zip(tmp_path / "bomb.zip", {"basic.py": b"\0" * 20_000})
    with pytest.raises(SubmissionError, match=r"^bomb\.zip: expands to .*refusing to unpack it$"):
        discover(archive, fixture_catalog)


def test_errors_are_one_clear_line(tmp_path: Path, fixture_catalog: Catalog) -> None:
    with pytest.raises(SubmissionError, match="no such file or folder"):
        discover(tmp_path / "missing", fixture_catalog)
    write(tmp_path / "notes.txt")
    with pytest.raises(SubmissionError, match="not a folder or a .zip"):
        discover(tmp_path / "notes.txt", fixture_catalog)
    (tmp_path / "empty").mkdir()
    with pytest.raises(SubmissionError, match="nothing that looks like a submission; expected .*basic.py"):
        discover(tmp_path / "empty", fixture_catalog)
    write(tmp_path / "unrelated" / "x" / "report.pdf")
    with pytest.raises(SubmissionError) as caught:
        discover(tmp_path / "unrelated", fixture_catalog)
    assert "\n" not in str(caught.value)
    make_zip(tmp_path / "corrupt.zip", {"a": "b"})
    (tmp_path / "corrupt.zip").write_bytes((tmp_path / "corrupt.zip").read_bytes()[:30])
    with pytest.raises(SubmissionError, match="not a folder or a .zip|cannot unpack|damaged zip"):
        discover(tmp_path / "corrupt.zip", fixture_catalog)


def test_two_submissions_with_one_name_are_refused(tmp_path: Path, fixture_catalog: Catalog) -> None:
    # Refused for that student (neither is graded), the rest of the class goes on.
    klass = tmp_path / "class"
    write(klass / "alice" / "basic.py")
    make_zip(klass / "alice.zip", {"basic.py": "x"})
    write(klass / "bob" / "basic.py")
    alice, bob = discover(klass, fixture_catalog)
    assert alice.files == {} and "two submissions are both named 'alice'" in alice.refusal(["basic.py"])
    assert "basic.py" in bob.files and bob.refusal(["basic.py"]) is None


def test_unpacked_zips_live_outside_the_submission(tmp_path: Path, fixture_catalog: Catalog) -> None:
    archive = make_zip(tmp_path / "alice.zip", {"basic.py": "a"})
    (found,) = discover(archive, fixture_catalog)
    assert found.files["basic.py"].is_relative_to(folders._staging_root)
    shutil.rmtree(found.root)  # the grader may clean up early; nothing else depends on it
