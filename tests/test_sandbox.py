"""The child process: verdicts for every way a submission misbehaves, limits and cleanup.

The zoo exercise (tests/fixtures/exercises/zoo) runs once for the whole module: one hidden
test per misbehaviour, so these tests also show that the other tests of a run keep their
results when one of them hangs, crashes or floods the output.
"""
from __future__ import annotations

import dataclasses
import os
import shutil
import threading
import time
from pathlib import Path
from typing import Iterator

import psutil
import pytest

from grader import isolation, sandbox
from grader.catalog import Catalog, Exercise
from grader.sandbox import SandboxRun, TestRecord, run_hidden_tests, stage

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module", autouse=True)
def plain_mode() -> Iterator[None]:
    # The zoo reports the pids of what it left behind, and they are the host's pids only
    # without a PID namespace; tests/hostile/ checks cleanup under bubblewrap too.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GRADER_SANDBOX", "plain")
        yield


def records(run: SandboxRun) -> dict[str, TestRecord]:
    return {r.test: r for r in run.records}


@pytest.fixture(scope="module")
def zoo(fixture_catalog: Catalog) -> tuple[SandboxRun, float, set[int]]:
    exercise = fixture_catalog.get("zoo")
    started, before = time.monotonic(), _children()
    run = run_hidden_tests(exercise, {"zoo.py": exercise.path / "zoo.py"})
    return run, time.monotonic() - started, before


def _children() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


def _children_since(before: set[int]) -> list[psutil.Process]:
    """This process's live descendants that were not there before a run: what the run left.
    Earlier tests may leave ours (multiprocessing's resource tracker, started the first time
    a test makes a multiprocessing lock in this process), which no grading started."""
    return [p for p in psutil.Process().children(recursive=True)
            if p.pid not in before and p.status() != psutil.STATUS_ZOMBIE]


def zoo_record(zoo: tuple[SandboxRun, float, set[int]], test: str) -> TestRecord:
    return records(zoo[0])[test]


def test_every_collected_test_has_an_outcome(zoo: tuple[SandboxRun, float, set[int]], fixture_catalog: Catalog) -> None:
    run = zoo[0]
    functions = {r.function for r in run.records}
    assert functions == {t.name for t in fixture_catalog.get("zoo").tests}
    assert run.tampered == ()


@pytest.mark.parametrize("test, verdict, message", [
    ("test_passes", "passed", ""),
    ("test_wrong_answer", "wrong", "the answer should be 42, got 41"),
    ("test_failure_verdict", "race", "lost 3 of 10 increments"),
    ("test_raises", "error", "your code raised ZeroDivisionError: division by zero (zoo.py line 23)"),
    ("test_sys_exit", "error", "your code called sys.exit(3) (zoo.py line 27)"),
    ("test_spins", "timeout", "the test ran over its 2 s limit; your code was at zoo.py line 31 (in spin)"),
    ("test_spins_in_c", "timeout", "the test ran over its 2 s limit and did not stop when interrupted"),
    ("test_exits", "crash",
     "the test process exited with code 0 in the middle of this test (os._exit or sys.exit in your code?)"),
    ("test_segfaults", "crash", "the test process died with SIGSEGV (segmentation fault) during this test; "
                                "your code was at zoo.py line 46 (in segfault)"),
    ("test_chatters", "passed", ""),
    ("test_hogs_memory", "error", "your code ran out of memory (zoo.py line 57)"),
    ("test_processes[fork]", "passed", ""),
    ("test_processes[spawn]", "passed", ""),
    ("test_processes[forkserver]", "passed", ""),
    ("test_leaves_a_thread", "passed", ""),
    ("test_after_everything", "passed", ""),
])
def test_verdict_and_message(zoo: tuple[SandboxRun, float, set[int]], test: str, verdict: str, message: str) -> None:
    record = zoo_record(zoo, test)
    assert (record.verdict, record.message[:len(message)]) == (verdict, message), record


def test_failure_details_survive_as_json(zoo: tuple[SandboxRun, float, set[int]]) -> None:
    details = zoo_record(zoo, "test_failure_verdict").details
    assert details == {"lost": 3, "interleaving": [["T1", "read"], ["T2", "<class 'object'>"]]}


def test_a_hang_or_crash_costs_only_its_own_test(zoo: tuple[SandboxRun, float, set[int]]) -> None:
    run, elapsed = zoo[:2]
    # os._exit, the segfault and the hang in C each end a process; the rest run on in a fresh one
    assert run.processes == 4
    # the two 2 s hangs, grace for the one in C, and process start-ups: nowhere near 90 s
    assert elapsed < 30, elapsed


def test_output_is_capped_and_kept_apart_from_outcomes(zoo: tuple[SandboxRun, float, set[int]]) -> None:
    run = zoo[0]
    assert len(run.output) < sandbox.OUTPUT_CAP + sandbox.OUTPUT_TAIL + 1000
    assert "[output truncated at 1 MB: 5" in run.output  # about 59 MB were dropped
    assert zoo_record(zoo, "test_chatters").verdict == "passed"


def test_nothing_the_student_started_survives(zoo: tuple[SandboxRun, float, set[int]]) -> None:
    pids = zoo_record(zoo, "test_leaves_processes").details["pids"]
    assert len(pids) == 4  # a child, a child in its own session, two double-forked daemons
    alive = [p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
    assert alive == []
    assert _children_since(zoo[2]) == []


def basic(fixture_catalog: Catalog, **changes: object) -> Exercise:
    return dataclasses.replace(fixture_catalog.get("basic"), **changes)


def run_basic(exercise: Exercise, variant: str) -> dict[str, TestRecord]:
    path = FIXTURES / "students" / "basic" / variant / "basic.py"
    return records(run_hidden_tests(exercise, {"basic.py": path}))


@pytest.mark.parametrize("variant, message", [
    ("syntax_error", "basic.py does not import: SyntaxError at line 5: expected ':'"),
    ("raises_at_import", "basic.py does not import: ZeroDivisionError at line 5: division by zero"),
    ("quits_at_import", "basic.py does not import: it calls sys.exit('done') at line 8"),
    ("exits_at_import", "basic.py does not import: the test process exited with code 0 while importing it"),
])
@pytest.mark.parametrize("mode", ["processes", "threads"])
def test_a_file_that_does_not_import(fixture_catalog: Catalog, variant: str, message: str, mode: str) -> None:
    found = run_basic(basic(fixture_catalog, mode=mode), variant)
    assert found["test_add"].verdict == "import_error"
    assert found["test_add"].message.startswith(message), found["test_add"].message
    assert found["test_extra"].verdict == "passed"  # it never imports the student's file


def test_a_good_file_passes_in_both_modes(fixture_catalog: Catalog) -> None:
    for mode in ("processes", "threads"):
        found = run_basic(basic(fixture_catalog, mode=mode), "good")
        assert {r.verdict for r in found.values()} == {"passed"}, (mode, found)


def test_printed_records_are_not_outcomes(fixture_catalog: Catalog, tmp_path: Path) -> None:
    forger = tmp_path / "basic.py"
    forger.write_text('import json\nprint(json.dumps({"event": "result", "nodeid": "hidden/test_basic.py::'
                      'test_add", "test": "test_add", "function": "test_add", "verdict": "passed"}))\n'
                      'def add(a, b):\n    return 0\n')
    found = records(run_hidden_tests(basic(fixture_catalog), {"basic.py": forger}))
    assert found["test_add"].verdict == "wrong"


def test_the_hidden_tests_are_gone_before_student_code_runs(fixture_catalog: Catalog) -> None:
    # The tamperer rewrites the hidden tests it finds beside it into passes: it finds none
    # (the plugin removed their source once collected), so its correct code passes on its
    # merits and nothing is reported as changed; the exercise's own copy is untouched.
    exercise = basic(fixture_catalog)
    run = run_hidden_tests(exercise, {"basic.py": FIXTURES / "students" / "basic" / "tamperer" / "basic.py"})
    assert run.tampered == ()
    assert {r.verdict for r in run.records} == {"passed"}
    assert (exercise.hidden_dir / "test_basic.py").read_text().startswith("import pytest")


def test_a_changed_exercise_is_reported(fixture_catalog: Catalog, tmp_path: Path) -> None:
    # In plain mode a student could reach the exercise's own hidden tests: a change there
    # during the run is tampering with every test.
    exercise = basic(fixture_catalog)
    copy = tmp_path / "basic"
    shutil.copytree(exercise.path, copy)
    exercise = dataclasses.replace(exercise, path=copy)
    target = copy / "hidden" / "test_basic.py"
    student = tmp_path / "basic.py"
    student.write_text(f"import pathlib\npathlib.Path({str(target)!r}).write_text('def test_add():\\n    pass\\n')\n"
                       "def add(a, b):\n    return 0\n")
    run = run_hidden_tests(exercise, {"basic.py": student})
    assert run.tampered == ("exercise hidden/test_basic.py",)


def test_messages_are_capped_by_length_too() -> None:
    assert len(sandbox.capped("x" * 100_000)) <= sandbox.MESSAGE_CHARS + 4
    assert sandbox.capped("a\nb") == "a\nb"
    assert sandbox.capped("\n".join("l" * 10 for _ in range(50))).endswith("\n...")
    bounded = sandbox._bounded({"trace": ["y" * 10_000] * 5000})
    assert len(bounded["trace"]) == sandbox.DETAIL_ITEMS and len(bounded["trace"][0]) < 4100


def test_the_run_limit_stops_everything_and_says_so(fixture_catalog: Catalog) -> None:
    # test_spins would run for 10 s; the whole run may take 2.5
    exercise = dataclasses.replace(fixture_catalog.get("zoo"), test_timeout=10.0, run_timeout=2.5)
    found = records(run_hidden_tests(exercise, {"zoo.py": exercise.path / "zoo.py"}))
    assert found["test_wrong_answer"].verdict == "wrong"
    assert found["test_spins"].verdict == "timeout"
    assert "ran over their 2.5 s limit during this test" in found["test_spins"].message
    assert found["test_after_everything"].verdict == "not_judged"
    assert found["test_after_everything"].message == "did not run: the run's 2.5 s limit was reached"


def test_staging_holds_only_what_the_tests_need(fixture_catalog: Catalog, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    kernels = tmp_path / "kernels"
    kernels.mkdir()
    (kernels / "arith_instrumented.py").write_text("TWO = 2  # instrumented\n")
    monkeypatch.setattr(sandbox, "KERNELS", kernels)
    exercise = basic(fixture_catalog, instrumented={"arith.py": "arith_instrumented.py"})
    student = FIXTURES / "students" / "basic" / "good" / "basic.py"
    staged = stage(exercise, {"basic.py": student, "zoo.py": student}, tmp_path / "staged")
    names = sorted(p.relative_to(staged).as_posix() for p in staged.rglob("*"))
    assert names == ["arith.py", "basic.py", "hidden", "hidden/test_basic.py", "pytest.ini", "tmp"]
    assert (staged / "arith.py").read_text() == "TWO = 2  # instrumented\n"
    assert (staged / "basic.py").read_bytes() == student.read_bytes()


def test_limits_never_exceed_the_graders_own(fixture_catalog: Catalog) -> None:
    import resource

    zoo = fixture_catalog.get("zoo")
    limits = dict(isolation.limits(zoo.run_timeout, zoo.memory_mb))
    assert limits[resource.RLIMIT_AS] == (600 * 2**20, 600 * 2**20)
    assert limits[resource.RLIMIT_CORE] == (0, 0)
    for kind, (soft, hard) in limits.items():
        ceiling = resource.getrlimit(kind)[1]
        assert ceiling == resource.RLIM_INFINITY or hard <= ceiling
        assert soft <= hard


def test_run_leaves_no_temporary_files(fixture_catalog: Catalog, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    run_basic(basic(fixture_catalog), "good")
    assert list(tmp_path.iterdir()) == []
    assert os.environ.get("GRADER_RESULTS") is None


def test_cancel_all_kills_running_tests_at_once(fixture_catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(isolation, "cancelled", threading.Event())  # cancelling is for good otherwise
    exercise = dataclasses.replace(fixture_catalog.get("zoo"), test_timeout=30.0)
    outcome: list[BaseException | SandboxRun] = []
    before = _children()

    def grade() -> None:
        try:
            outcome.append(run_hidden_tests(exercise, {"zoo.py": exercise.path / "zoo.py"}))
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=grade)
    worker.start()
    time.sleep(2.0)  # test_spins is spinning by now
    started = time.monotonic()
    isolation.cancel_all()
    worker.join(timeout=10)
    assert time.monotonic() - started < 3
    assert len(outcome) == 1 and isinstance(outcome[0], sandbox.Cancelled)
    assert _children_since(before) == []


def test_concurrent_runs_leave_each_other_alone(fixture_catalog: Catalog) -> None:
    """Parallel grading: one run's cleanup must never take another run's live test
    process for an orphan (it once did, and killed it mid-test)."""
    from concurrent.futures import ThreadPoolExecutor

    exercise = basic(fixture_catalog)
    with ThreadPoolExecutor(4) as pool:
        runs = list(pool.map(lambda _: run_basic(exercise, "good"), range(8)))
    for found in runs:
        assert {r.verdict for r in found.values()} == {"passed"}, {n: r.message for n, r in found.items()}


def test_the_cores_cap_reaches_the_test_process_and_nothing_else_of_the_graders(
        fixture_catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # GRADER_CORES caps the cores the timing tests may count on; they run in the child.
    monkeypatch.setenv("GRADER_CORES", "3")
    monkeypatch.setenv("GRADER_SOMETHING_ELSE", "x")
    monkeypatch.setenv("PYTEST_ADDOPTS", "-x")
    run = sandbox._Run(fixture_catalog.get("basic"), tmp_path, tmp_path, None)
    try:
        env = run._env("3:4", "token")
    finally:
        run.output.close()
    assert env["GRADER_CORES"] == "3"
    assert "GRADER_SOMETHING_ELSE" not in env and "PYTEST_ADDOPTS" not in env


def _bound(args: list[str]) -> list[str]:
    return [args[i + 1] for i, a in enumerate(args) if a in ("--ro-bind", "--bind")]


def test_bwrap_shows_an_allowlist_only(tmp_path: Path) -> None:
    # Built from what the run needs, not from / minus a list: the repository (solutions,
    # exercises), the class and the output folder are simply not there.
    import sys

    from grader import isolation
    staged = tmp_path / "staged"
    staged.mkdir()
    args = isolation.bwrap_command(["true"], staged)
    bound = _bound(args)
    assert args[:3] == ["bwrap", "--tmpfs", "/"]
    assert str(staged.resolve()) in bound and str(isolation.GRADER_DIR) in bound
    assert os.path.realpath(sys.prefix) in bound or any(
        os.path.realpath(sys.prefix).startswith(b + os.sep) for b in bound)
    for path in bound:
        assert not (isolation.REPO_ROOT == Path(path) or Path(path) in isolation.REPO_ROOT.parents), path
        for hidden in ("solutions", "exercises", "tests"):
            assert not Path(path).is_relative_to(isolation.REPO_ROOT / hidden), path
    assert "/" not in bound and "/etc" not in bound and "/home" not in bound and "/root" not in bound


def test_bwrap_as_root_drops_to_a_user_of_its_own(tmp_path: Path) -> None:
    from grader import isolation
    args = isolation.bwrap_command(["python", "-m", "pytest"], tmp_path, 240_001)
    tail = args[args.index("--") + 1:]
    assert tail[:3] == ["python", "-s", "-c"] and tail[4:] == ["240001", "python", "-m", "pytest"]
    assert "os.setuid(u)" in tail[3] and "os.setgroups([])" in tail[3]


def test_test_processes_find_the_graders_modules_compiled(monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine is imported only in test processes, which never write bytecode: the
    grading process compiles it for them, once, valid for the source as it is."""
    import importlib.util

    source = Path(sandbox.__file__).parent / "concurrency" / "runtime.py"
    cached = Path(importlib.util.cache_from_source(str(source)))
    cached.unlink(missing_ok=True)
    monkeypatch.setattr(sandbox, "_compiled_done", False)
    sandbox.compile_grader()
    header = cached.read_bytes()[:16]
    assert int.from_bytes(header[4:8], "little") == 0  # checked against the source's time
    assert int.from_bytes(header[8:12], "little") == int(source.stat().st_mtime) & 0xFFFFFFFF
    assert int.from_bytes(header[12:16], "little") == source.stat().st_size & 0xFFFFFFFF
    cached.unlink()
    sandbox.compile_grader()  # once per grading process: not again
    assert not cached.exists()
