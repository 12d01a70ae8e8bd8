"""The student bundle: what it holds, and above all what it must never hold.

The leak check is tested both ways: the bundle built from the real catalogue is clean, and
a solution (whole, or a single line of it) or a hidden test copied in is reported.
"""
from __future__ import annotations

import json
import shutil
import tomllib
import zipfile
from pathlib import Path

import pytest

from grader.bundle import (MANIFEST, RUNTIME, BundleError, build_bundle, find_leaks,
                           significant_lines)
from grader.catalog import Catalog, CatalogError, load_catalog, load_exercise
from grader.pythons import TESTED

REPO = Path(__file__).resolve().parent.parent


def repo_catalog() -> Catalog:
    """The repository's exercises that load: one still being written must not stop the check
    of the finished ones (load_catalog would refuse them all)."""
    exercises = []
    for folder in sorted((REPO / "exercises").iterdir()):
        if folder.is_dir() and not folder.name.startswith((".", "_")):
            try:
                exercises.append(load_exercise(folder))
            except CatalogError:
                continue
    assert any(e.id == "race_counter" for e in exercises)
    return Catalog(REPO / "exercises", tuple(exercises))


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return repo_catalog()


@pytest.fixture(scope="module")
def bundle(catalog: Catalog, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_bundle(catalog, tmp_path_factory.mktemp("dist") / "student-bundle").folder


def copy_of(bundle: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(bundle, tmp_path / "student-bundle"))


# ---------------------------------------------------------------- what is in it

def test_every_exercise_ships_statement_stub_given_and_public_tests(catalog: Catalog, bundle: Path) -> None:
    for exercise in catalog.exercises:
        names = ["README.md", *exercise.files, *exercise.given, "test_public.py"]
        for name in names:
            source, shipped = exercise.path / name, bundle / exercise.id / name
            if source.is_file():
                assert shipped.read_bytes() == source.read_bytes(), f"{exercise.id}/{name}"
        shipped = {p.name for p in (bundle / exercise.id).iterdir()}
        assert shipped <= set(names), f"{exercise.id}: unexpected {shipped - set(names)}"


def test_student_readme_makefile_and_runtime(bundle: Path) -> None:
    readme = (bundle / "README.md").read_text()
    for words in ("make check", "make submit", "not your grade", "race_counter", "hidden tests"):
        assert words in readme
    makefile = (bundle / "Makefile").read_text()
    assert "check:" in makefile and "submit:" in makefile and "STUDENT" in makefile
    runtime = bundle / RUNTIME
    assert (runtime / "pyproject.toml").is_file()
    assert (runtime / "grader" / "plugin.py").is_file()
    assert (runtime / "grader" / "concurrency" / "shim.py").is_file()
    assert (runtime / "grader" / "selfcheck.py").is_file()
    # make check's first line: a warning on a Python the grader was not tested on.
    assert (runtime / "grader" / "pythons.py").is_file()
    assert "-m grader.pythons" in makefile
    shipped = tomllib.loads((runtime / "pyproject.toml").read_text())["project"]["classifiers"]
    assert shipped == [f"Programming Language :: Python :: {v}" for v in TESTED]
    # Instructor-only builders stay home.
    assert not (runtime / "grader" / "bundle.py").exists()
    assert not (runtime / "grader" / "site.py").exists()
    assert not list(bundle.rglob("__pycache__"))


def test_no_hidden_or_solution_folder_and_no_path_of_this_machine(bundle: Path) -> None:
    for path in bundle.rglob("*"):
        assert "hidden" not in path.relative_to(bundle).parts
        assert "solutions" not in path.relative_to(bundle).parts
    manifest = (bundle / MANIFEST).read_text()
    assert str(REPO) not in manifest
    entries = json.loads(manifest)["exercises"]
    assert all(e["solution"] is None and e["path"] == e["id"] for e in entries)


def test_the_zip_holds_the_folder(catalog: Catalog, tmp_path: Path) -> None:
    built = build_bundle(catalog, tmp_path / "student-bundle")
    with zipfile.ZipFile(built.archive) as zf:
        names = {n for n in zf.namelist() if not n.endswith("/")}
    expected = {f"student-bundle/{p.relative_to(built.folder)}" for p in built.folder.rglob("*") if p.is_file()}
    assert names == expected


# ---------------------------------------------------------------- leaks

def test_the_bundle_leaks_nothing(catalog: Catalog, bundle: Path) -> None:
    assert find_leaks(bundle, catalog) == []


def test_a_solution_file_copied_in_is_reported(catalog: Catalog, bundle: Path, tmp_path: Path) -> None:
    copy = copy_of(bundle, tmp_path)
    solution = REPO / "solutions" / "race_counter" / "counter.py"
    shutil.copyfile(solution, copy / "race_counter" / "counter.py")  # over the stub
    shutil.copyfile(solution, copy / "transfer_deadlock" / "notes.py")  # or anywhere
    leaks = find_leaks(copy, catalog)
    assert any(leak.startswith("race_counter/counter.py: is a copy of solutions/race_counter/counter.py")
               for leak in leaks), leaks
    assert any(leak.startswith("transfer_deadlock/notes.py: is a copy of") for leak in leaks), leaks


def test_one_line_of_a_solution_is_reported(catalog: Catalog, bundle: Path, tmp_path: Path) -> None:
    copy = copy_of(bundle, tmp_path)
    stub = copy / "race_counter" / "counter.py"
    # The typical accident: the stub edited into the solution, then shipped.
    stub.write_text(stub.read_text().replace("self._value = start",
                                             "self._value = start\n        self._lock = threading.Lock()"))
    leaks = find_leaks(copy, catalog)
    assert leaks == ["race_counter/counter.py: holds a line of solutions/race_counter/counter.py "
                     "the stub does not: self._lock = threading.Lock()"]


def test_a_hidden_test_copied_in_is_reported(catalog: Catalog, bundle: Path, tmp_path: Path) -> None:
    copy = copy_of(bundle, tmp_path)
    hidden = REPO / "exercises" / "race_counter" / "hidden" / "test_counter.py"
    (copy / RUNTIME / "grader" / "hidden").mkdir()
    shutil.copyfile(hidden, copy / RUNTIME / "grader" / "hidden" / "test_counter.py")
    text = hidden.read_text()
    definition = text[text.index("def test_two_threads"):].split("\n", 1)[0]
    (copy / "race_counter" / "test_public.py").write_text(f"{definition}\n    pass\n")
    leaks = find_leaks(copy, catalog)
    assert any("sits in a folder named hidden/" in leak for leak in leaks), leaks
    assert any("is a copy of hidden test race_counter/hidden/test_counter.py" in leak for leak in leaks)
    assert any(leak.startswith("race_counter/test_public.py: defines the hidden test") for leak in leaks)


def test_a_leaking_catalogue_gets_no_bundle(tmp_path: Path) -> None:
    # A statement quoting the solution's key line: refused, and nothing is zipped.
    root = tmp_path / "course"
    shutil.copytree(REPO / "exercises" / "race_counter", root / "exercises" / "race_counter")
    shutil.copytree(REPO / "solutions" / "race_counter", root / "solutions" / "race_counter")
    readme = root / "exercises" / "race_counter" / "README.md"
    readme.write_text(readme.read_text() + "\n    with self._lock:\n        self._value += n\n")
    with pytest.raises(BundleError, match="with self._lock:"):
        build_bundle(load_catalog(root / "exercises"), tmp_path / "dist" / "student-bundle")
    assert not (tmp_path / "dist" / "student-bundle.zip").exists()


def test_significant_lines_leave_out_what_any_file_holds() -> None:
    text = '''import threading
from queue import Queue

# a comment
class Counter:
    def increment(self, n):
        try:
            pass
        finally:
            return
        x = 0
        with self._lock:   
            self._value  +=  n
'''
    assert significant_lines(text) == {"class Counter:", "def increment(self, n):",
                                       "with self._lock:", "self._value += n"}


def test_the_runtime_is_closed_and_minimal(bundle: Path, catalog: Catalog) -> None:
    """Every grader module a shipped file imports (function-local imports too) is shipped,
    and every shipped module is reachable from what a student runs: the self-check, the
    test process and the exercises' own files. Class grading, the cluster, the mutants
    and the reports stay with the instructor."""
    import ast

    from grader.bundle import RUNTIME_ENTRIES
    from grader.imports import closure, import_graph, imports_of, module_files

    package = bundle / RUNTIME / "grader"
    shipped = set(module_files(package))
    everything = set(module_files())
    assert shipped < everything
    missing = {}
    for name, path in module_files(package).items():
        where = name if path.name == "__init__.py" else name.rpartition(".")[0]
        wanted = imports_of(ast.parse(path.read_text(encoding="utf-8")), where, everything)
        if wanted - shipped:
            missing[name] = sorted(wanted - shipped)
    assert missing == {}
    entries = set(RUNTIME_ENTRIES)
    for exercise in catalog.exercises:
        entries |= {f"grader.kernels.{Path(k).stem}" for k in exercise.instrumented.values()}
        public = bundle / exercise.id / "test_public.py"
        if public.is_file():
            entries |= imports_of(ast.parse(public.read_text(encoding="utf-8")), "", everything)
    assert closure(import_graph(package), entries) == shipped
    for instructors_only in ("grader.cli", "grader.workflow", "grader.distributed", "grader.scaleout",
                             "grader.mutants", "grader.mutate", "grader.bundle", "grader.site",
                             "grader.gradebook", "grader.report.render"):
        assert instructors_only not in shipped
    assert "-m grader.selfcheck check" in (bundle / "Makefile").read_text()


# ---------------------------------------------------------------- as a student runs it

@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_check_in_the_bundle_as_a_student_runs_it(bundle: Path, tmp_path: Path) -> None:
    """`make check` in a fresh copy: creates .venv, installs the runtime as a package (not
    the repository's editable grader) and runs the public tests isolated as the grader
    would. Installed, the folder above grader/ is site-packages: the sandbox must not hide
    it the way it hides the repository."""
    import subprocess
    import sys
    student = copy_of(bundle, tmp_path)
    make = ["make", "-C", str(student), "check", "EXERCISE=race_counter", f"PYTHON={sys.executable}"]
    stub = subprocess.run(make, capture_output=True, text=True, timeout=600)
    assert stub.returncode != 0, stub.stdout + stub.stderr
    assert "FAIL  test_threads_lose_no_increment" in stub.stdout, stub.stdout + stub.stderr
    assert "could not run" not in stub.stdout and "No module named" not in stub.stdout
    shutil.copy(REPO / "solutions" / "race_counter" / "counter.py", student / "race_counter")
    solved = subprocess.run(make, capture_output=True, text=True, timeout=600)
    assert solved.returncode == 0, solved.stdout + solved.stderr
    assert "4 of 4 public tests passed" in solved.stdout
