"""Hidden tests of connection_limit: a semaphore guarding the conditions database.

Every threaded check runs the student's ConnectionLimiter under the controlled scheduler,
which may switch threads between any two bytecodes of limiter.py and at every lock
operation. Time is virtual: a client "holding a connection for 1 s" (`run.sleep(1)`)
costs no real time, and the clock jumps forward when every thread waits, so durations
such as "6 clients took 2.0 s" are exact. A thread that spins instead of sleeping never
lets the clock jump: it runs into the step bound (verdict busy waiting).

The tests count the clients holding a connection themselves: a client counts from the
moment its acquire() returned to the moment before it calls release(), so the count
never exceeds the true number of holders and cannot blame a correct limiter.
"""
from grader.testing import check, plural

# About three times what a correct limiter needs (at most ~500 bytecodes of limiter.py a
# schedule here), far below what a thread spinning on a full limiter runs while another
# holds a connection. Kept low on purpose: a spinning thread costs real time per step.
MAX_STEPS = 1_500


def _limiter_class(student):
    return student.module("limiter").ConnectionLimiter


class Clients:
    """The clients holding a connection right now, as seen by the test."""

    def __init__(self, run, limit):
        self.run, self.limit = run, limit
        self.now = self.most = 0

    def enter(self, who):
        self.now += 1
        self.most = max(self.most, self.now)
        self.run.check(self.now <= self.limit,
                       f"{self.now} clients held a connection at the same time with "
                       f"limit={self.limit} ({who} got in while {plural(self.now - 1, 'other')} "
                       "still held one)", verdict="race")

    def leave(self):
        self.now -= 1


def test_single_thread_behaviour(student, engine):
    """One thread: acquire() takes a slot and returns True, release() and `with` give it back."""
    ConnectionLimiter = _limiter_class(student)

    def scenario(run):
        limiter = ConnectionLimiter(2)
        first, second = limiter.acquire(), limiter.acquire()
        run.check(first is True and second is True,
                  f"on a fresh ConnectionLimiter(2), two acquire() calls returned {first!r} and "
                  f"{second!r}, expected True and True")
        limiter.release()
        limiter.release()
        got = limiter.acquire(timeout=5)
        run.check(got is True, f"acquire(timeout=5) with a free slot returned {got!r}, expected True")
        run.check(run.now() < 0.01, f"acquire(timeout=5) with a free slot took {run.now():.3f} s: "
                                    "a free slot must be taken at once")
        limiter.release()
        with limiter:
            pass
        for round_ in (1, 2):
            got = limiter.acquire(timeout=5)
            run.check(got is True, f"after `with limiter:` ended, acquire() number {round_} of 2 "
                                   f"returned {got!r}: leaving the `with` block must give the slot back")
        limiter.release()
        limiter.release()

    engine.explore(scenario, schedules=1, max_steps=MAX_STEPS).assert_ok()


def test_release_without_acquire_raises(student, engine):
    """More releases than acquires is a ValueError, and the limiter stays usable."""
    ConnectionLimiter = _limiter_class(student)

    def expect_value_error(run, limiter, when):
        try:
            limiter.release()
        except ValueError:
            return
        except Exception as exc:  # noqa: BLE001 - any other exception is the wrong one
            run.check(False, f"release() {when} raised {type(exc).__name__}: {exc}; expected "
                             "ValueError (more releases than acquires)")
        run.check(False, f"release() {when} returned normally; expected ValueError: a release "
                         "too many would silently let one more client in than the limit")

    def scenario(run):
        limiter = ConnectionLimiter(2)
        expect_value_error(run, limiter, "on a fresh ConnectionLimiter(2)")
        limiter.acquire()
        limiter.release()
        expect_value_error(run, limiter, "after one acquire() and one release()")
        for round_ in (1, 2):
            got = limiter.acquire(timeout=5)
            run.check(got is True, f"after a refused release(), acquire() number {round_} of 2 "
                                   f"returned {got!r}: the limiter must stay usable")
        limiter.release()
        limiter.release()

    engine.explore(scenario, schedules=1, max_steps=MAX_STEPS).assert_ok()


def test_never_more_than_limit(student, engine, exercise):
    """Several clients at once: never more than `limit` of them hold a connection."""
    ConnectionLimiter = _limiter_class(student)
    limit, clients, rounds = (exercise.params["safety"][k] for k in ("limit", "clients", "rounds"))

    def scenario(run):
        limiter = ConnectionLimiter(limit)
        holding = Clients(run, limit)

        def client(number):
            who = f"client {number}"
            for _ in range(rounds):
                if number % 2:
                    with limiter:
                        holding.enter(who)
                        run.point()
                        holding.leave()
                else:
                    limiter.acquire()
                    holding.enter(who)
                    run.point()
                    holding.leave()
                    limiter.release()

        for number in range(1, clients + 1):
            run.spawn(client, number, name=f"client {number}")
        run.join_all()

    # Two of the three clients may spin here: a lower bound keeps a spinning limiter's
    # failing schedule short (correct limiters need under ~500 steps).
    engine.explore(scenario, max_steps=MAX_STEPS * 2 // 3).assert_ok()


def test_limit_clients_at_once(student, engine, exercise):
    """With more clients than slots, `limit` of them hold a connection at the same time."""
    ConnectionLimiter = _limiter_class(student)
    limit, clients, schedules = (exercise.params["demand"][k] for k in ("limit", "clients", "schedules"))
    most = [0]  # the most clients seen holding a connection at once, over all schedules

    def scenario(run):
        limiter = ConnectionLimiter(limit)
        holding = Clients(run, limit)

        def client(number):
            with limiter:
                holding.enter(f"client {number}")
                for _ in range(3):  # the query on the conditions database takes a while
                    run.point()
                holding.leave()

        for number in range(1, clients + 1):
            run.spawn(client, number, name=f"client {number}")
        run.join_all()
        most[0] = max(most[0], holding.most)

    # Safety is checked in every schedule (Clients.enter); concurrency over all of them:
    # a correct limiter lets `limit` clients in together on many schedules, a limiter that
    # lets fewer in never does.
    exploration = engine.explore(scenario, schedules=schedules, stop_at_first=False,
                                 max_steps=MAX_STEPS)
    exploration.assert_ok()
    check(most[0] >= limit,
          f"{clients} clients asked for a connection at the same time with limit={limit}, and on "
          f"{plural(exploration.schedules, 'schedule')} never more than "
          f"{plural(most[0], 'client')} held one at once: the limiter must let {limit} clients "
          f"in together (a single Lock lets only one in)", verdict="serial",
          most_at_once=most[0], limit=limit)


def test_acquire_timeout_returns_false_in_time(student, engine):
    """acquire(timeout) gives up after `timeout` s, and succeeds as soon as a slot frees."""
    ConnectionLimiter = _limiter_class(student)

    def scenario(run):
        limiter = ConnectionLimiter(1)
        limiter.acquire()
        got = limiter.acquire(timeout=0)
        run.check(not got, f"acquire(timeout=0) on a full limiter returned {got!r}; expected "
                           "False at once")
        outcome = {}

        def impatient():
            start = run.now()
            got = limiter.acquire(timeout=0.5)
            outcome["impatient"] = (got, run.now() - start)
            if got:
                limiter.release()

        waiter = run.spawn(impatient, name="client with timeout=0.5")
        run.sleep(1.5)  # holds the only connection for 1.5 s
        limiter.release()
        run.join(waiter)
        got, took = outcome["impatient"]
        run.check(not got and 0.5 - 1e-3 <= took <= 0.55,
                  f"while the only connection was held for 1.5 s, acquire(timeout=0.5) returned "
                  f"{got!r} after {took:.2f} s; expected False after 0.5 s", verdict="wrong",
                  took=round(took, 3))

        limiter.acquire()

        def patient():
            start = run.now()
            got = limiter.acquire(timeout=2.0)
            outcome["patient"] = (got, run.now() - start)
            if got:
                limiter.release()

        waiter = run.spawn(patient, name="client with timeout=2")
        run.sleep(1.0)  # frees the connection after 1 s, well within the 2 s
        limiter.release()
        run.join(waiter)
        got, took = outcome["patient"]
        run.check(got and took <= 1.05,
                  f"the connection was freed 1 s into acquire(timeout=2), which returned {got!r} "
                  f"after {took:.2f} s; expected True as soon as the connection was freed",
                  verdict="wrong", took=round(took, 3))

    engine.explore(scenario, schedules=30, max_steps=MAX_STEPS).assert_ok()


def test_waiting_uses_no_cpu(student, engine, exercise):
    """A client waiting for a connection sleeps until it is freed: no spinning, no polling."""
    ConnectionLimiter = _limiter_class(student)
    hold = exercise.params["waiting"]["hold"]
    max_steps, max_wakeups, max_late = (exercise.params["waiting"][k]
                                        for k in ("max_steps", "max_wakeups", "max_late"))
    waiting_bound = 2 * max_steps

    def scenario(run):
        limiter = ConnectionLimiter(1)
        limiter.acquire()
        got_it = {}

        def waiting_client():
            limiter.acquire()
            got_it["at"] = run.now()
            limiter.release()

        run.spawn(waiting_client, name="waiting client")
        run.sleep(hold)  # holds the only connection
        freed = run.now()
        limiter.release()
        run.join_all()
        stats = run.stats["waiting client"]
        run.check(stats["steps"] <= max_steps,
                  f"while it waited {hold:g} s for the connection, the waiting client ran "
                  f"{stats['steps']:,} bytecode steps of limiter.py: it keeps checking instead of "
                  "sleeping until a release wakes it", verdict="busy_wait", steps=stats["steps"])
        run.check(stats["waits"] <= max_wakeups,
                  f"while it waited {hold:g} s for the connection, the waiting client went to "
                  f"sleep and woke up {stats['waits']:,} times: it polls (sleep, check, sleep...) "
                  "instead of sleeping until a release wakes it", verdict="busy_wait",
                  wakeups=stats["waits"])
        late = got_it["at"] - freed
        run.check(late <= max_late,
                  f"the waiting client got the connection {late:.3f} s after it was freed: a "
                  "client that polls with sleep() notices late; wait to be woken by release()",
                  verdict="busy_wait", late=round(late, 4))

    # One waiting thread: a correct waiter runs a few dozen steps, a spinning one hits
    # this bound at once (the clock cannot jump while it runs).
    engine.explore(scenario, schedules=20, max_steps=waiting_bound).assert_ok()
