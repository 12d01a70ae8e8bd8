"""The students' self-check and hand-in, run on a bundle built from race_counter.

The self-check goes through the real sandbox and plugin, so these tests also show that a
public test sees the student's module loaded through the concurrency engine's shims, and
that `make submit`'s zip is what the grader reads as that student's submission.
"""
from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

import pytest

from grader.bundle import build_bundle
from grader.catalog import Catalog, load_catalog
from grader.selfcheck import SelfCheckError, check, pack, student_name
from grader.submissions import discover

REPO = Path(__file__).resolve().parent.parent
SOLUTION = REPO / "solutions" / "race_counter" / "counter.py"


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    root = tmp_path_factory.mktemp("course")
    shutil.copytree(REPO / "exercises" / "race_counter", root / "exercises" / "race_counter")
    shutil.copytree(REPO / "solutions" / "race_counter", root / "solutions" / "race_counter")
    return load_catalog(root / "exercises")


@pytest.fixture
def bundle(catalog: Catalog, tmp_path: Path) -> Path:
    return build_bundle(catalog, tmp_path / "student-bundle").folder


def run_check(bundle: Path, **kwargs: object) -> tuple[int, str]:
    out = io.StringIO()
    code = check(bundle, out=out, **kwargs)  # type: ignore[arg-type]
    return code, out.getvalue()


def test_the_untouched_stub_fails_the_threaded_public_test(bundle: Path) -> None:
    code, text = run_check(bundle)
    assert code == 1
    assert "PASS  test_increment_adds_one_or_n" in text
    assert "FAIL  test_threads_lose_no_increment_when_adding_is_slow" in text
    assert "lost " in text and "increments with 4 threads" in text
    assert "This is not your grade" in text


def test_the_solution_passes_and_runs_under_the_engine(bundle: Path) -> None:
    shutil.copyfile(SOLUTION, bundle / "race_counter" / "counter.py")
    # A public test that looks at what the student's module got for threading.Lock.
    public = bundle / "race_counter" / "test_public.py"
    public.write_text(public.read_text() + (
        "\n\ndef test_module_is_loaded_by_the_engine():\n"
        "    import counter\n"
        "    assert counter.threading.Lock.__module__ == 'grader.concurrency.primitives'\n"))
    code, text = run_check(bundle, ids=["race_counter"])
    assert code == 0, text
    assert "5 of 5 public tests passed" in text
    assert "FAIL" not in text


def test_a_file_that_does_not_import_is_named(bundle: Path) -> None:
    (bundle / "race_counter" / "counter.py").write_text("class Counter:\n    def increment(:\n")
    code, text = run_check(bundle)
    assert code == 1
    assert "counter.py does not import: SyntaxError at line 2" in text
    assert "race_counter could not run" in text


def test_an_unknown_exercise_is_refused(bundle: Path) -> None:
    with pytest.raises(SelfCheckError, match="unknown exercise 'nope'"):
        check(bundle, ["nope"], out=io.StringIO())


def test_submit_packs_what_the_grader_reads(bundle: Path, catalog: Catalog) -> None:
    shutil.copyfile(SOLUTION, bundle / "race_counter" / "counter.py")
    packed = pack(bundle, "alice")
    assert packed.archive == bundle / "alice.zip"
    with zipfile.ZipFile(packed.archive) as zf:
        assert zf.namelist() == ["alice/race_counter/counter.py"]
    assert packed.notes == ()
    (found,) = discover(packed.archive, catalog)
    assert found.student == "alice"
    assert found.files["counter.py"].read_bytes() == SOLUTION.read_bytes()


def test_submit_says_what_to_look_at(bundle: Path) -> None:
    assert pack(bundle, "bob").notes == ("race_counter/counter.py is still the untouched stub",)
    (bundle / "race_counter" / "counter.py").write_text("def broken(:\n")
    assert pack(bundle, "bob").notes == ("race_counter/counter.py does not compile: line 1: invalid syntax",)
    (bundle / "race_counter" / "counter.py").unlink()
    assert "missing" in pack(bundle, "bob").notes[0]


def test_student_names_are_plain_file_names(monkeypatch: pytest.MonkeyPatch) -> None:
    assert student_name("Alice Martin") == ("Alice_Martin", False)
    assert student_name("../../etc") == ("etc", False)
    monkeypatch.setattr("getpass.getuser", lambda: "carol")
    assert student_name(None) == ("carol", True)
    with pytest.raises(SelfCheckError):
        student_name("///")
