"""The concurrency-testing engine hidden tests are built on.

- `load_module`: import a student's file with scheduler-aware threading, time, queue.
- `Engine.explore`: run a scenario under many seeded, controlled schedules; races and
  deadlocks show up on every run and come back explained (`Exploration.assert_ok`).

See runtime.py for how the scheduler works and explain.py for the messages. The arrows go
one way: tasks.py (tasks and failures) <- strategies.py <- runtime.py <- explain.py <-
explore.py; explore.py hands explain.EXPLAINER to each Scheduler it builds.
"""
from grader.concurrency.explore import Engine, Exploration, FailedSchedule, Run
from grader.concurrency.shim import load_module, shim_module, student_files

__all__ = ["Engine", "Exploration", "FailedSchedule", "Run", "load_module", "shim_module",
           "student_files"]
