"""The threat list: each case under cases/ gets the right verdict and a message naming
what happened, never a pass it did not earn; nothing it started survives, nothing in
the repository changes, and the class grades in bounded time.

Run in the mode the machine offers (bubblewrap where it works, else plain; the report
line of the class fixture says which); GRADER_SANDBOX=plain runs it without bubblewrap.
"""
from __future__ import annotations

import pytest

from tests.hostile.classroom import HONEST, RUN_LIMIT, ClassRun, cases

THREADED = ("test_two_threads_lose_no_increment", "test_many_threads_lose_no_count")
STUB_POINTS = 2.0  # the racy stub's own score: one thread counts right, earned by anyone

# case -> (verdicts allowed for the threaded tests, words their message must hold)
THREATS: dict[str, tuple[set[str], str]] = {
    "loop_at_import": ({"import_error"}, "endless loop at import time"),
    "deadlock_at_import": ({"import_error"}, "still running after 3 s"),
    "loop_in_call": ({"busy_wait", "timeout"}, "counter.py line"),
    "deadlock_in_call": ({"deadlock"}, "which it already holds"),
    "os_exit_at_import": ({"import_error"}, "exited with code 0 while importing it"),
    "os_exit_in_call": ({"crash"}, "exited with code 0 in the middle of this test"),
    "sys_exit_at_import": ({"import_error"}, "it calls sys.exit(0)"),
    "sys_exit_in_call": ({"error"}, "SystemExit"),
    "keyboard_interrupt": ({"error"}, "KeyboardInterrupt"),
    "segfault": ({"crash"}, "SIGSEGV (segmentation fault)"),
    "runaway_recursion": ({"busy_wait", "crash", "error", "timeout"}, "counter.py"),
    "allocates_3gib": ({"error"}, "MemoryError"),
    "floods_stdout": ({"passed"}, ""),  # correct, just loud: earned, and the output is capped
    "leaves_processes": ({"race"}, "lost"),
    # finds no hidden test to rewrite (gone once collected; a fresh copy per process)
    "deletes_files": ({"race"}, "lost"),
    "steals_by_walking_up": ({"race"}, "lost"),
    "steals_through_the_grader": ({"race"}, "lost"),
    "fake_summary": ({"race"}, "lost"),
    "forges_channel": ({"race"}, "lost"),
    "patches_the_grader": ({"tampered"}, "grader.testing"),
    "patches_pytest": ({"race", "tampered"}, ""),
    # issue 17, items 2 and 3: the audit hook (grader/guard.py)
    "reads_expected_frame": ({"tampered"}, "reached into the frames of the code that tests it (sys._getframe"),
    "walks_with_inspect": ({"tampered"}, "reached into the frames of the code that tests it (sys._getframe"),
    "finds_test_by_gc": ({"tampered"}, "(gc.get_referrers"),
    "compiles_elsewhere": ({"race"}, "lost"),
    "rebuilds_code": ({"race"}, "lost"),
    "honest_introspection": ({"passed"}, ""),  # no false alarm: logging, traceback, dataclasses
    # item 4: every test process starts from a pristine staged copy
    "plants_sitecustomize": ({"race", "import_error"}, ""),
    "plants_conftest": ({"race", "import_error"}, ""),
    # item 7: the hidden tests are not in the staged copy once collected; messages are capped
    "leaks_hidden_tests": ({"error"}, "RuntimeError"),
    # a value that compares equal to any count: the interface says it is an int
    "fakes_an_int": ({"wrong"}, "it must be an int"),
}


def test_every_case_is_on_the_threat_list() -> None:
    assert sorted(THREATS) == cases()
    # Only the cases that must pass get the exercise's normal limits.
    assert sorted(HONEST) == sorted(case for case, (verdicts, _) in THREATS.items() if verdicts == {"passed"})


@pytest.mark.parametrize("case", sorted(THREATS))
def test_verdict_and_message(hostile_class: ClassRun, case: str) -> None:
    result = hostile_class.results[case]
    if case == "steals_through_the_grader" and hostile_class.mode != "bwrap":
        pytest.xfail("only bubblewrap hides the repository: the grader package leads to solutions/")
    verdicts, words = THREATS[case]
    assert result.status == "graded" and result.sandbox == hostile_class.mode
    for test in result.tests:
        if test.name in THREADED:
            assert test.verdict in verdicts and words in test.message, (case, test)
    if verdicts != {"passed"}:
        assert result.points <= STUB_POINTS, (case, result.tests)  # never a pass it did not earn
    else:
        assert result.points == result.max_points


def test_forged_records_are_named(hostile_class: ClassRun) -> None:
    assert "written into the results channel by something other than the grader" in \
        hostile_class.results["forges_channel"].message


def test_the_other_exercise_keeps_its_score(hostile_class: ClassRun) -> None:
    counter, transfer = hostile_class.mixed
    assert counter.points == 0 and "crash" in {t.verdict for t in counter.tests}
    assert transfer.exercise == "transfer_deadlock" and transfer.points == transfer.max_points


def test_nothing_started_by_a_submission_survives(hostile_class: ClassRun) -> None:
    assert hostile_class.leftovers == ()


def test_no_file_outside_the_output_changed(hostile_class: ClassRun) -> None:
    assert hostile_class.changed == ()


def test_the_class_grades_in_bounded_time(hostile_class: ClassRun) -> None:
    # Every hang costs at most its limit; 4 at a time, the whole class stays well inside
    # one run limit per job slot.
    assert hostile_class.elapsed < 2 * RUN_LIMIT, hostile_class.elapsed


def test_mode_is_reported(hostile_class: ClassRun, record_property: pytest.RecordProperty) -> None:
    record_property("sandbox", hostile_class.mode)
    print(f"hostile class graded in {hostile_class.mode} mode in {hostile_class.elapsed:.1f} s")
    assert hostile_class.mode in ("bwrap", "user", "plain")


def test_hidden_tests_never_reach_a_message(hostile_class: ClassRun) -> None:
    # leaks_hidden_tests raises an exception holding every .py file its working folder has
    # besides its own: the hidden tests are gone before its code runs, and any message is
    # capped by length as well as by lines.
    from grader.sandbox import MESSAGE_CHARS
    for case, result in hostile_class.results.items():
        for test in result.tests:
            assert "def test_" not in test.message and "engine.explore(" not in test.message, (case, test.name)
            assert len(test.message) <= MESSAGE_CHARS + 4, (case, test.name, len(test.message))
    messages = [t.message for t in hostile_class.results["leaks_hidden_tests"].tests]
    assert all("nothing to read" in m for m in messages), messages
