"""The Pythons the grader is tested on: one list, stated alike everywhere; the warning of
the bundle's `make check`; the free-threaded build in the machine facts and the pages;
and how tools/pythons.py (`make test-pythons`) judges a version's run."""
from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from grader import pythons
from grader.model import SubmissionResult
from grader.report.render import machine, render_class, render_student

ROOT = Path(__file__).resolve().parent.parent


def _tool():
    spec = importlib.util.spec_from_file_location("pythons_tool", ROOT / "tools" / "pythons.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


tool = _tool()


# ---------------------------------------------------------------- one list, stated alike

def test_pyproject_classifiers_name_exactly_the_tested_versions() -> None:
    with open(ROOT / "pyproject.toml", "rb") as f:
        classifiers = tomllib.load(f)["project"]["classifiers"]
    stated = [c.rsplit(":: ", 1)[1] for c in classifiers
              if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)]
    assert stated == list(pythons.TESTED)


def test_readme_states_the_tested_versions() -> None:
    versions = list(pythons.TESTED)
    words = f"CPython {', '.join(versions[:-1])} and {versions[-1]}"
    assert words in (ROOT / "README.md").read_text(encoding="utf-8")


def test_make_test_pythons_runs_every_tested_version() -> None:
    assert [t.version for t in tool.TARGETS] == list(pythons.TESTED)
    assert sum(1 for t in tool.TARGETS if not t.suite) == 1  # the host's own


def test_ci_runs_make_test_pythons_after_make_test() -> None:
    steps = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()
             if "make " in line and not line.lstrip().startswith("#")]
    assert steps == ["make test", "GRADER_PYTHONS_HOST=0 make test-pythons"]
    # ...which is only sound while make test grades every reference and stub on the host.
    assert "def test_reference_solution_scores_full_marks" in (ROOT / "tests" / "test_mutants.py").read_text()
    assert "def test_untouched_stub_loses_points" in (ROOT / "tests" / "test_mutants.py").read_text()


# ---------------------------------------------------------------- the bundle's warning

@pytest.mark.parametrize("version", pythons.TESTED)
def test_a_tested_gil_build_gets_no_warning(version: str) -> None:
    assert pythons.untested_warning("CPython", f"{version}.2", True) is None


@pytest.mark.parametrize("implementation, version", [("CPython", "3.12.3"), ("CPython", "3.15.0a1"),
                                                     ("PyPy", "3.11.9")])
def test_an_untested_python_gets_one_line_naming_it(implementation: str, version: str) -> None:
    line = pythons.untested_warning(implementation, version, True)
    assert line is not None and "\n" not in line
    assert f"{implementation} {version}" in line and ", ".join(pythons.TESTED) in line


def test_a_free_threaded_build_gets_one_line_saying_so() -> None:
    line = pythons.untested_warning("CPython", f"{pythons.TESTED[-1]}.0", False)
    assert line is not None and "\n" not in line and "free-threaded" in line


def test_the_bundle_check_runs_the_version_check_first() -> None:
    makefile = (ROOT / "grader" / "bundle_files" / "Makefile").read_text()
    check = makefile.split("\ncheck:", 1)[1].split("\n\n", 1)[0]
    lines = [line.strip() for line in check.splitlines()[1:]]
    assert lines[0] == "@$(PY) -m grader.pythons" and "selfcheck" in lines[1]


def test_the_version_check_exits_zero_and_speaks_only_when_untested() -> None:
    done = subprocess.run([sys.executable, "-m", "grader.pythons"], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert done.returncode == 0
    assert done.stderr.strip() == (pythons.untested_warning() or "")


# ---------------------------------------------------------------- the free-threaded build

def test_the_machine_facts_say_whether_the_gil_is_on() -> None:
    assert machine()["gil"] == ("on" if pythons.gil_enabled() else "off")


@pytest.mark.parametrize("render", [lambda where: render_student(SubmissionResult("ada", ()), where=where),
                                    lambda where: render_class([SubmissionResult("ada", ())], where=where)],
                         ids=["student", "class"])
def test_every_page_says_when_a_free_threaded_build_graded(render) -> None:
    facts = machine()
    assert "free-threaded" in render({**facts, "gil": "off"})
    assert "free-threaded" not in render({**facts, "gil": "on"})
    assert "free-threaded" not in render({k: v for k, v in facts.items() if k != "gil"})  # older gradebook


# ---------------------------------------------------------------- tools/pythons.py

def test_the_mirror_is_the_one_apt_uses(tmp_path: Path) -> None:
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\nURIs: http://mirror.example/debian-security\nSuites: x-security\n\n"
        "Types: deb\nURIs: http://mirror.example/debian/\nSuites: x\n")
    assert tool.debian_mirror(tmp_path) == "http://mirror.example/debian"
    (tmp_path / "sources.list").write_text("deb [arch=amd64] http://other.example/debian x main\n")
    assert tool.debian_mirror(tmp_path) == "http://other.example/debian"


def test_no_mirror_is_a_skip_not_a_pass(tmp_path: Path) -> None:
    (tmp_path / "sources.list").write_text("deb https://vendor.example/apt stable main\n")
    with pytest.raises(tool.Skip, match="no Debian archive"):
        tool.debian_mirror(tmp_path)


def _run_outputs(work: Path, *, refs: list[tuple[float, float]], stubs: list[tuple[float, float]],
                 failures: int = 0) -> None:
    work.mkdir(parents=True, exist_ok=True)
    (work / "engine.xml").write_text(
        f'<testsuites><testsuite tests="30" failures="{failures}" errors="0" skipped="1"/></testsuites>')
    for name, rows in (("solutions", refs), ("stubs", stubs)):
        (work / name).mkdir()
        exercises = [{"exercise": f"ex{i}", "points": p, "max_points": m, "status": "graded",
                      "sandbox": "bwrap"} for i, (p, m) in enumerate(rows)]
        (work / name / "class.json").write_text(json.dumps(
            {"submissions": [{"student": name, "exercises": exercises}]}))


def test_a_run_passes_with_references_full_stubs_short_and_engine_tests_green(tmp_path, monkeypatch):
    monkeypatch.setattr(tool, "exercise_count", lambda: 2)
    _run_outputs(tmp_path, refs=[(10, 10), (15, 15)], stubs=[(3, 10), (0, 15)])
    outcome = tool.Outcome(tool.TARGETS[0])
    tool.judge(outcome, tmp_path)
    assert outcome.failures == []
    assert outcome.figures["references"] == "2/2 full" and outcome.figures["stubs"] == "2/2 short"
    assert outcome.figures["tests"]["passed"] == 29


@pytest.mark.parametrize("refs, stubs, failures, words", [
    ([(10, 10), (14, 15)], [(3, 10), (0, 15)], 0, "references: 1 of 2"),
    ([(10, 10), (15, 15)], [(3, 10), (15, 15)], 0, "stubs: 1 of 2"),
    ([(10, 10)], [(3, 10)], 0, "references: 1 of 2"),  # an exercise missing from the run
    ([(10, 10), (15, 15)], [(3, 10), (0, 15)], 2, "engine tests: 2 failed"),
])
def test_a_run_fails_on_any_shortfall(tmp_path, monkeypatch, refs, stubs, failures, words) -> None:
    monkeypatch.setattr(tool, "exercise_count", lambda: 2)
    _run_outputs(tmp_path, refs=refs, stubs=stubs, failures=failures)
    outcome = tool.Outcome(tool.TARGETS[0])
    tool.judge(outcome, tmp_path)
    assert any(words in f for f in outcome.failures), outcome.failures


def test_a_run_that_left_nothing_fails(tmp_path) -> None:
    outcome = tool.Outcome(tool.TARGETS[0])
    tool.judge(outcome, tmp_path)
    assert len(outcome.failures) == 3


def test_ci_leaves_the_host_out_as_a_skip_not_a_pass(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("GRADER_PYTHONS_HOST", "0")
    with pytest.raises(tool.Skip, match="make test"):
        tool.run_host(tool.TARGETS[0], tmp_path, tmp_path / "log")


@pytest.mark.parametrize("raised, code, closing", [
    (tool.Skip("no mirror"), 0, "pythons: 0 passed, 0 failed, 1 skipped"),
    (tool.Failed("pip failed"), 1, "pythons: 0 passed, 1 failed, 0 skipped"),
])
def test_a_skip_is_reported_as_such_and_a_failure_fails(tmp_path, monkeypatch, capsys, raised, code, closing):
    def refuse(*args):
        raise raised

    monkeypatch.setattr(tool, "run_chroot", refuse)
    monkeypatch.setattr(tool, "LOGS", tmp_path / "logs")
    monkeypatch.setenv("GRADER_PYTHONS", "3.14")
    assert tool.main() == code
    out = capsys.readouterr().out
    assert out.rstrip().splitlines()[-1] == closing
    assert ("SKIPPED: no mirror" if code == 0 else "FAILED: pip failed") in out


def test_no_namespaces_is_a_skip_with_the_reason(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(tool.os, "geteuid", lambda: 0)
    monkeypatch.setattr(tool.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(tool.subprocess, "run", lambda *a, **k: subprocess.CompletedProcess(
        a[0], 1, "", "unshare: unshare failed: Operation not permitted"))
    with pytest.raises(tool.Skip, match="no mount and PID namespaces.*Operation not permitted"):
        tool.build_chroot(tool.TARGETS[1], tmp_path, tmp_path / "log")
    assert not any(tmp_path.iterdir())  # nothing built, nothing half-built
