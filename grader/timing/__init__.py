"""Judging "parallelise the loop": evidence from inside the work, speedup as a report.

Wall-clock speedup cannot grade parallelism on a shared machine: with one core taken by
someone else's job, correct solutions measure 0.8-0.9x of serial, the same as serial
ones. What holds under load is evidence recorded inside the CPU-heavy kernel
(grader/kernels/evidence.py): when each process was computing. From it, for one call of
the student's function:

- in-kernel concurrency: each process's working time (intervals of consecutive kernel
  calls, pauses under GAP_NS included) summed over processes, divided by the span from
  the first call to the last. Processes working at once give close to the number of
  workers; workers taking turns (waiting on each future right after submitting it),
  threads (the GIL: one process) and serial code give about 1 or less. A preempted
  worker is still inside its work, so a neighbour's job hardly changes the figure.
- time inside the calls: the share of that working time spent inside the kernel's
  calls. One event per task keeps workers busy with messages, not with the kernel.
- worker processes: a pool created per batch shows as many PIDs.
- CPU overhead: CPU time of the call (the grader's process, every thread, plus each
  worker from its first to its last recorded moment) over the CPU time of the serial
  loop in the same round. Pickling the whole input for every task, or one task per
  event, shows here; CPU time, unlike wall time, hardly depends on the load.

The record is written by Python code in the student's processes, so the student's code
could write it too. Three checks rest on what it cannot write (issue 17):
- the CPU time the operating system counted in the worker processes during the call
  (grader/kernels/accounting.py: /proc and getrusage) must back the calls the workers'
  record claims (at least `backing` x their cost in the serial loop), or the parallelism,
  overhead and pool checks, which all read that record, fail;
- the kernel is called at most `calls_per_event` times per item: workers that each
  compute everything show concurrency and no gain;
- the staged kernel is calibrated per run (grader/kernels/detector.py), so values
  computed with a private copy of the given one differ: the hidden tests compare every
  timed run's result with the serial loop's.

Every threshold is a ratio measured on the same machine (concurrency / workers, CPU /
serial CPU, processes / workers; see Thresholds). Runs are interleaved in rounds
(serial on `serial_share` of the work scaled up, reference, student, a free-cores probe,
shuffled): two rounds when every figure is far from its threshold, three, more when a
median is close to its threshold, and a small pilot round first that alone judges a slow
submission already far over its CPU or process budget. The rounds stop at a hard
`budget` of seconds: a check they have not settled by then is "not judged" (reason
"budget", retried by the next run), never a verdict taken by chance.

A check that is not judged carries a reason (a key of grader.model.NOT_JUDGED): "busy"
(the grader's own parallel version showed no parallelism in the same rounds), "budget",
"one_core"; the hidden tests pass it on with grader.testing.not_judged, and the gradebook
regrades on that field, never on a phrase.

No worker process at all (serial code, threads) is a fact of the code and is judged on
any machine with two usable cores. Low concurrency with several processes is judged only
beside a reference that did show parallelism in the same rounds; otherwise "not judged".
Wall-clock speedup is measured and reported (median and spread, beside the reference's
in the same rounds) and counts only when every probe found the cores free and the
reference itself sped up; otherwise it is "not judged: the machine was busy", a note on
a verdict that the in-kernel evidence judged (final, not regraded).

Machine policy (grader/cores.py): workers = min(wish, usable cores); with one usable core
the parallelism checks are not judged and pass with that note.

The package: figures.py (a run's figures from the kernels' traces), rule.py (the rule,
on plain data, no clock: unit-tested on synthetic evidence), rounds.py (the protocol
that feeds it: the evidence directory, timed calls, interleaved rounds, the budget).
Hidden tests use it as `from grader import timing`.
"""
from __future__ import annotations

from grader.timing.figures import Run, Worker, busy_chart, run_figures
from grader.timing.rounds import (BENCH_LOG_ENV, Workload, _enough, _log, _pilot_decides,  # noqa: F401
                                  _reference_healthy, evidence_dir, measure, over_budget,
                                  scaled, summary, timed_call)
from grader.timing.rule import (ONE_POOL, OVERHEAD, PARALLEL, SPEEDUP, Check, Names, Round,
                                Thresholds, Verdict, judge)

__all__ = ["BENCH_LOG_ENV", "Check", "Names", "ONE_POOL", "OVERHEAD", "PARALLEL", "Round",
           "Run", "SPEEDUP", "Thresholds", "Verdict", "Worker", "Workload", "busy_chart",
           "evidence_dir", "judge", "measure", "over_budget", "run_figures", "scaled",
           "summary", "timed_call"]
