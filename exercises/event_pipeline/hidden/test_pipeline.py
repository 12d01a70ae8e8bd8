"""Hidden tests of event_pipeline: a producer/consumer pipeline with backpressure.

Every check runs the student's run_pipeline under the controlled scheduler, which may
switch threads between any two bytecodes of pipeline.py and at every lock or queue
operation. Time is virtual: building an event "for 1 s" (`run.sleep`) costs no real time,
and the clock jumps forward when every thread is asleep; a thread that spins instead of
sleeping never lets it jump and runs into the step bound (verdict busy waiting).

The test's own detector hands the events out and its own `process` builds them, so the
tests see exactly which event was taken from the detector, and when, and which was built,
how many times, and by how many threads at once.
"""
from collections import Counter

from grader.testing import check, plural

# Over twice what a correct pipeline runs here (at most ~1,000 bytecodes of pipeline.py a
# schedule); far below what a thread spinning on an empty queue runs while the others
# sleep. Kept low on purpose: a spinning thread costs real time per step.
MAX_STEPS = 2_500


class Event:
    """One detector event: its number in the readout."""

    def __init__(self, number):
        self.number = number

    def __repr__(self):
        return f"event {self.number}"


def built(event):
    """What the test's process() returns for an event."""
    return ("built", event.number)


class Detector:
    """The readout and the event builder of one scenario, and what they saw."""

    def __init__(self, run, count, *, max_pending=None, readout=0.0, build=0.0,
                 slow_first=False, bad=None):
        self.run, self.count = run, count
        self.max_pending, self.readout, self.build = max_pending, readout, build
        self.slow_first, self.bad = slow_first, bad
        self.taken = 0  # events handed out by the detector
        self.finished = 0  # process() calls that returned or raised
        self.calls = Counter()  # event number -> process() calls
        self.building = 0  # process() calls running right now
        self.most_building = 0

    def events(self):
        for number in range(self.count):
            if self.readout:
                self.run.sleep(self.readout)  # the readout of one event takes a while
            self.taken += 1
            if self.max_pending is not None:
                pending = self.taken - self.finished
                self.run.check(
                    pending <= self.max_pending,
                    f"run_pipeline took event {number} from the detector while "
                    f"{plural(pending - 1, 'event')} it had taken {'was' if pending == 2 else 'were'} "
                    f"not built yet ({plural(self.taken, 'event')} taken, "
                    f"{self.finished} built): with max_pending={self.max_pending} it must wait "
                    f"for room before reading the next event (events a worker is building "
                    f"count as pending too)", verdict="wrong", taken=self.taken,
                    built=self.finished, max_pending=self.max_pending)
            yield Event(number)

    def process(self, event):
        self.calls[event.number] += 1
        self.building += 1
        self.most_building = max(self.most_building, self.building)
        try:
            # The first events take longest, so that later ones finish first.
            duration = self.build * (3 if self.slow_first and event.number < 3 else 1)
            if duration:
                self.run.sleep(duration)
            else:
                self.run.point()
            if self.bad is not None and event.number == self.bad:
                raise ValueError(f"corrupt event {event.number}: bad checksum")
            return built(event)
        finally:
            self.building -= 1
            self.finished += 1


def _run_pipeline(student):
    return student.module("pipeline").run_pipeline


def _call(run, run_pipeline, detector, n_workers, max_pending, what):
    """Call run_pipeline; fail the schedule (naming the exception) if it raises."""
    try:
        return run_pipeline(detector.events(), detector.process, n_workers, max_pending)
    except Exception as exc:  # noqa: BLE001 - any exception here is the submission's
        run.check(False, f"run_pipeline({what}) raised {type(exc).__name__}: {exc}",
                  verdict="error")


def _check_no_worker_left(run, when):
    left = run.alive()
    run.check(not left, f"{when}, {plural(len(left), 'thread')} it started {'is' if len(left) == 1 else 'are'} "
                        f"still there ({', '.join(left)}): every worker must have finished "
                        "(join them) before run_pipeline returns", verdict="wrong", threads=left)


def test_results_in_input_order(student, engine, exercise):
    """Results come back in the order the events came in, whichever finishes first."""
    run_pipeline = _run_pipeline(student)
    n, workers, pending = (exercise.params["order"][k] for k in ("events", "workers", "max_pending"))

    def scenario(run):
        detector = Detector(run, n, build=0.1, slow_first=True)
        what = f"{n} events, n_workers={workers}, max_pending={pending}"
        results = _call(run, run_pipeline, detector, workers, pending, what)
        expected = [("built", i) for i in range(n)]
        run.check(isinstance(results, list),
                  f"run_pipeline({what}) returned {type(results).__name__}, expected a list",
                  verdict="wrong")
        if sorted(results, key=repr) == sorted(expected, key=repr) and results != expected:
            order = ", ".join(str(r[1]) for r in results)
            run.check(False, f"run_pipeline({what}) returned the results of events {order}: "
                             "they must be in the order the events came in, not the order "
                             "they finished", verdict="wrong")
        run.check(results == expected,
                  f"run_pipeline({what}) returned {results!r}; expected the results of events "
                  f"0 to {n - 1}, in that order", verdict="wrong")

    engine.explore(scenario, schedules=exercise.params["order"]["schedules"],
                   max_steps=MAX_STEPS).assert_ok()


def test_each_event_processed_once(student, engine, exercise):
    """Every event is built exactly once: none skipped, none built twice. No events: []."""
    run_pipeline = _run_pipeline(student)
    n, workers, pending = (exercise.params["once"][k] for k in ("events", "workers", "max_pending"))

    def scenario(run):
        empty = Detector(run, 0)
        results = _call(run, run_pipeline, empty, workers, pending, "no events")
        run.check(results == [], f"run_pipeline with no events returned {results!r}, expected []",
                  verdict="wrong")

        detector = Detector(run, n)
        what = f"{n} events, n_workers={workers}, max_pending={pending}"
        results = _call(run, run_pipeline, detector, workers, pending, what)
        twice = sorted(k for k, v in detector.calls.items() if v > 1)
        never = [i for i in range(n) if detector.calls[i] == 0]
        run.check(not twice, f"run_pipeline({what}) built {', '.join(f'event {i}' for i in twice)} "
                             "more than once: each event must be taken by exactly one worker",
                  verdict="race")
        run.check(not never, f"run_pipeline({what}) never built "
                             f"{', '.join(f'event {i}' for i in never)}", verdict="wrong")
        run.check(isinstance(results, list) and len(results) == n,
                  f"run_pipeline({what}) returned {plural(len(results or []), 'result')} for "
                  f"{plural(n, 'event')}", verdict="wrong")

    engine.explore(scenario, schedules=exercise.params["once"]["schedules"],
                   max_steps=MAX_STEPS).assert_ok()


def test_backpressure(student, engine, exercise):
    """At most max_pending events are out of the detector and not yet built."""
    run_pipeline = _run_pipeline(student)
    n, workers, pending = (exercise.params["backpressure"][k] for k in ("events", "workers", "max_pending"))

    def scenario(run):
        detector = Detector(run, n, max_pending=pending, build=0.1)
        _call(run, run_pipeline, detector, workers, pending,
              f"{n} events, n_workers={workers}, max_pending={pending}")

    engine.explore(scenario, schedules=exercise.params["backpressure"]["schedules"],
                   max_steps=MAX_STEPS).assert_ok()


def test_workers_stop_when_done(student, engine, exercise):
    """When run_pipeline returns, every thread it started has finished."""
    run_pipeline = _run_pipeline(student)
    n, workers, pending = (exercise.params["once"][k] for k in ("events", "workers", "max_pending"))

    def scenario(run):
        detector = Detector(run, n, build=0.1)
        _call(run, run_pipeline, detector, workers, pending,
              f"{n} events, n_workers={workers}, max_pending={pending}")
        _check_no_worker_left(run, f"when run_pipeline({n} events, n_workers={workers}) returned")

    engine.explore(scenario, schedules=exercise.params["stop"]["schedules"],
                   max_steps=MAX_STEPS).assert_ok()


def test_exception_reraised_after_workers_stop(student, engine, exercise):
    """A process() that raises: run_pipeline re-raises it, after its workers have stopped."""
    run_pipeline = _run_pipeline(student)
    n, workers, pending, bad = (exercise.params["failure"][k]
                                for k in ("events", "workers", "max_pending", "bad"))

    def scenario(run):
        detector = Detector(run, n, build=0.1, bad=bad)
        what = f"{n} events, n_workers={workers}, max_pending={pending}"
        try:
            results = run_pipeline(detector.events(), detector.process, workers, pending)
        except ValueError as exc:
            run.check("corrupt event" in str(exc),
                      f"run_pipeline raised ValueError({str(exc)!r}); expected the exception "
                      f"process() raised for event {bad}, ValueError('corrupt event {bad}: bad "
                      "checksum')", verdict="wrong")
            _check_no_worker_left(run, f"when run_pipeline re-raised the exception of event {bad}")
            return
        except Exception as exc:  # noqa: BLE001
            run.check(False, f"process() raised ValueError for event {bad}, but run_pipeline "
                             f"raised {type(exc).__name__}: {exc}; re-raise the exception "
                             "process() raised", verdict="wrong")
        run.check(False, f"process() raised ValueError for event {bad} of {n}, but "
                         f"run_pipeline({what}) returned {results!r} instead of raising it: an "
                         "error must not be swallowed", verdict="wrong")

    engine.explore(scenario, schedules=exercise.params["failure"]["schedules"],
                   max_steps=MAX_STEPS).assert_ok()


def test_no_busy_waiting(student, engine, exercise):
    """While the detector is slow, the workers and the reader sleep instead of spinning."""
    run_pipeline = _run_pipeline(student)
    params = exercise.params["waiting"]
    n, workers, pending, readout = (params[k] for k in ("events", "workers", "max_pending", "readout"))
    # A thread that sleeps until it is woken goes to sleep about once per event.
    max_wakeups = 2 * n + 10

    def scenario(run):
        detector = Detector(run, n, readout=readout)
        _call(run, run_pipeline, detector, workers, pending,
              f"{n} events read out {readout:g} s apart, n_workers={workers}")
        for name, stats in run.stats.items():
            run.check(stats["steps"] <= params["max_steps"],
                      f"while the detector took {readout:g} s to read out each of {n} events, "
                      f"{name} ran {stats['steps']:,} bytecodes of pipeline.py: it keeps "
                      "checking (for example queue.empty() in a loop) instead of sleeping in "
                      "queue.get() until there is work", verdict="busy_wait", steps=stats["steps"])
            run.check(stats["waits"] <= max_wakeups,
                      f"while the detector took {readout:g} s to read out each of {n} events, "
                      f"{name} went to sleep and woke up {stats['waits']:,} times: it polls "
                      "(a short timeout or sleep in a loop) instead of sleeping until there is "
                      "work", verdict="busy_wait", wakeups=stats["waits"])

    engine.explore(scenario, schedules=params["schedules"], max_steps=MAX_STEPS).assert_ok()


def test_workers_build_at_the_same_time(student, engine, exercise):
    """n_workers workers build events at the same time, and never more than n_workers."""
    run_pipeline = _run_pipeline(student)
    n, workers, pending, build = (exercise.params["parallel"][k]
                                  for k in ("events", "workers", "max_pending", "build"))
    ideal = -(-n // min(workers, pending)) * build

    def scenario(run):
        detector = Detector(run, n, build=build)
        _call(run, run_pipeline, detector, workers, pending,
              f"{n} events, n_workers={workers}, max_pending={pending}")
        took = run.now()
        run.check(detector.most_building <= workers,
                  f"{detector.most_building} events were being built at the same time with "
                  f"n_workers={workers}: use exactly n_workers worker threads", verdict="wrong",
                  most_at_once=detector.most_building)
        run.check(took < ideal + 0.05,
                  f"{n} events taking {build:g} s each to build took {took:.1f} s with "
                  f"n_workers={workers}: at most {plural(detector.most_building, 'event')} "
                  f"{'was' if detector.most_building == 1 else 'were'} built at once. With "
                  f"{workers} workers building at the same time it takes {ideal:.1f} s",
                  verdict="serial", took=round(took, 3), ideal=ideal,
                  most_at_once=detector.most_building)

    engine.explore(scenario, schedules=exercise.params["parallel"]["schedules"],
                   max_steps=MAX_STEPS).assert_ok()
