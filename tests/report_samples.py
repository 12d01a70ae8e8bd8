"""Hand-built results shaped like the demo class, for the export and report tests.

They do not depend on the runner: they show every kind of detail the reports render
(an interleaving, a deadlock cycle, a replay command, speedup figures, a missing file,
a file that does not import).
"""
from __future__ import annotations

from grader.model import ExerciseResult, SubmissionResult, TestOutcome

EXERCISES = {
    "race_counter": ("Fix the race (mutex)", [
        ("test_no_lost_updates", "No increment is lost with 8 threads", 6.0),
        ("test_lock_is_shared", "All threads share one lock", 4.0)]),
    "transfer_deadlock": ("Break the deadlock (lock ordering)", [
        ("test_opposite_transfers_finish", "Opposite transfers finish", 5.0),
        ("test_total_conserved", "Money is conserved", 3.0),
        ("test_self_transfer", "transfer(a, a, x) is harmless", 2.0)]),
    "parallel_histogram": ("Parallelise the loop (processes)", [
        ("test_counts_identical", "Counts equal the serial loop", 5.0),
        ("test_runs_in_parallel", "Work runs in several processes at once", 5.0)]),
}

RACE = dict(
    trace=[
        {"thread": "T1", "file": "counter.py", "line": 12, "source": "current = self._value"},
        {"thread": "T2", "file": "counter.py", "line": 12, "source": "current = self._value"},
        {"thread": "T2", "file": "counter.py", "line": 13, "source": "self._value = current + n"},
        {"thread": "T1", "file": "counter.py", "line": 13, "source": "self._value = current + n",
         "note": "overwrites T2's increment"},
    ],
    replay="python -m grader replay demo/class/boris race_counter test_no_lost_updates --seed 1234",
    threads=8, seed=1234,
)
DEADLOCK = dict(
    cycle=["T1 holds account 1's lock and waits for account 2's",
           "T2 holds account 2's lock and waits for account 1's"],
    replay="python -m grader replay demo/class/chen transfer_deadlock "
           "test_opposite_transfers_finish --seed 7",
)
SERIAL = dict(speedup={"workers": 2, "required": 1.5, "measured": 1.02, "counted": False,
                       "series": [{"workers": 1, "speedup": 1.0}, {"workers": 2, "speedup": 1.02}]},
              figures={"processes seen": 1, "max at once": 1, "counted": True, "note": "",
                       "busy_intervals": {"unit": "ms", "span": 1475.1, "processes": [
                           {"label": "calling process (pid 476)", "calls": 9000,
                            "intervals": [[0.0, 233.0], [237.1, 1420.9]]},
                           {"label": "worker 1 (pid 480)", "calls": 0, "intervals": []}]}})


# What a passing timing test measured: shown folded under the pass.
PARALLEL = dict(speedup={"workers": 2, "required": 1.5, "measured": 1.91,
                         "series": [{"workers": 1, "speedup": 1.0}, {"workers": 2, "speedup": 1.91}]},
                figures={"processes seen": 3, "max at once": 2, "counted": True})


def exercise(ex_id: str, failures: dict[str, tuple[str, str, dict]] | None = None,
             status: str = "graded", message: str = "",
             passes: dict[str, tuple[str, dict]] | None = None) -> ExerciseResult:
    title, specs = EXERCISES[ex_id]
    failures, passes = failures or {}, passes or {}
    tests = []
    for name, test_title, points in specs:
        if status == "not_submitted":
            tests.append(TestOutcome(name, test_title, points, 0.0, "not_submitted"))
        elif name in failures:
            verdict, msg, details = failures[name]
            tests.append(TestOutcome(name, test_title, points, 0.0, verdict, msg, details, 0.4))
        else:
            note, details = passes.get(name, ("", {}))
            tests.append(TestOutcome(name, test_title, points, points, "passed", note, details, 0.2))
    return ExerciseResult(ex_id, title, sum(t.max_points for t in tests),
                          sum(t.points for t in tests), tuple(tests), status, message,
                          duration=1.5)


def demo_results() -> list[SubmissionResult]:
    ok = {ex_id: exercise(ex_id) for ex_id in EXERCISES}

    def student(name: str, **changed: ExerciseResult) -> SubmissionResult:
        return SubmissionResult(name, tuple(changed.get(i, ok[i]) for i in EXERCISES))

    return [
        student("ada", parallel_histogram=exercise("parallel_histogram", passes={
            "test_runs_in_parallel": ("2.0 processes inside reconstruct() at once on average "
                                      "with 2 workers", PARALLEL)})),
        student("boris", race_counter=exercise("race_counter", {
            "test_no_lost_updates": ("race", "lost 1,204 of 80,000 increments with 8 threads", RACE)})),
        student("chen", transfer_deadlock=exercise("transfer_deadlock", {
            "test_opposite_transfers_finish": (
                "deadlock", "two opposite transfers wait for each other forever", DEADLOCK),
            "test_self_transfer": ("deadlock", "transfer(a, a, 10) never returns",
                                   {"cycle": ["T1 holds account 1's lock and waits for it again"]})})),
        student("dana", parallel_histogram=exercise("parallel_histogram", {
            "test_runs_in_parallel": ("serial", "every event was reconstructed by one process",
                                      SERIAL)})),
        student("emil", race_counter=exercise("race_counter", status="not_submitted",
                                              message="counter.py was not submitted")),
        student("fatima", transfer_deadlock=exercise("transfer_deadlock", {
            name: ("import_error", "transfer.py does not import: SyntaxError: expected ':' (line 9)",
                   {"file": "transfer.py", "line": 9})
            for name, _, _ in EXERCISES["transfer_deadlock"][1]})),
    ]
