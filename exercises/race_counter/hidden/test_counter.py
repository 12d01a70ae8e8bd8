"""Hidden tests of race_counter: the trigger counter loses no count, whatever the timing.

Every threaded check runs the student's Counter under the controlled scheduler, which may
switch threads between any two bytecodes of counter.py and at every lock operation. A
read-modify-write that is not protected as a whole loses an increment on some schedule,
and the failure names that schedule, so the verdict is the same on every run.
"""
from grader.testing import plural


def test_counts_in_one_thread(student, engine):
    """One thread: the counter starts where it is told and adds what it is given."""
    Counter = student.module("counter").Counter

    def scenario(run):
        counter = Counter()
        got = value(run, counter)
        run.check(got == 0, f"Counter() starts at {got!r}, expected 0")
        counter.increment()
        got = value(run, counter)
        run.check(got == 1, f"Counter() then increment() gives {got!r}, expected 1")
        counter.increment(5)
        got = value(run, counter)
        run.check(got == 6, f"after increment() and increment(5) the value is {got!r}, expected 6")

        started = Counter(10)
        got = value(run, started)
        run.check(got == 10, f"Counter(10) starts at {got!r}, expected 10")
        started.increment()
        got = value(run, started)
        run.check(got == 11, f"Counter(10) then increment() gives {got!r}, expected 11")
        run.check(value(run, counter) == 6,
                  "incrementing one Counter changed another: each Counter must keep its own count")

    # One thread has nothing to interleave: a single schedule says it all.
    engine.explore(scenario, schedules=1).assert_ok()


def test_two_threads_lose_no_increment(student, engine, exercise):
    """Two readout threads call increment() at the same time: every call is counted."""
    Counter = student.module("counter").Counter
    calls = exercise.params["pair_increments"]
    expected = 2 * calls

    def scenario(run):
        counter = Counter()

        def readout():
            for _ in range(calls):
                counter.increment()

        run.threads(readout, 2)
        _check_count(run, value(run, counter), expected,
                     f"{plural(expected, 'increment')} with 2 threads", unit="increment")

    engine.explore(scenario).assert_ok()


def test_many_threads_lose_no_count(student, engine, exercise):
    """Several threads add different amounts to a counter that did not start at zero."""
    Counter = student.module("counter").Counter
    threads, rounds, start = (exercise.params[k] for k in ("threads", "rounds", "start"))
    amounts = range(1, threads + 1)  # thread i calls increment(i)
    added = rounds * sum(amounts)

    def scenario(run):
        counter = Counter(start)

        def readout(n):
            for _ in range(rounds):
                counter.increment(n)

        for n in amounts:
            run.spawn(readout, n, name=f"readout-{n}")
        run.join_all()
        _check_count(run, value(run, counter) - start, added,
                     f"{plural(added, 'count')} added by {plural(threads, 'thread')} "
                     f"calling increment(n) with n = 1..{threads}, starting from {start}",
                     unit="count")

    engine.explore(scenario).assert_ok()


def value(run, counter):
    """Counter.value, which the interface says is an int: an object standing in for one
    could compare equal to anything, and so pass every count it is checked against."""
    got = counter.value
    run.check(type(got) is int,
              f"Counter.value gave {type(got).__name__} {got!r:.60}; it must be an int, the count",
              verdict="wrong")
    return got


def _check_count(run, counted, expected, what, unit):
    """Fail the schedule with how many were lost (or, oddly, invented)."""
    if counted < expected:
        run.check(False, f"lost {expected - counted:,} of {what}", verdict="race")
    elif counted > expected:
        run.check(False, f"counted {plural(counted - expected, unit)} too many: {what}",
                  verdict="wrong")
