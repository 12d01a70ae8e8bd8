"""Hidden tests of dining_philosophers: the dinner always ends, everyone eats exactly
`meals` times, neighbours never eat at once, and non-neighbours do.

Every check runs the student's dine() under the controlled scheduler, which may switch
threads between any two bytecodes of philosophers.py and at every lock operation; the
test's eat(i) is a scheduling point too, so other philosophers go on while one eats.
Each clause of "correct" is judged by its own test, but who ate and who ate together
only count for a dinner that ends: a dinner that deadlocks (or livelocks) on any schedule
a test tries fails that test too, since a dinner that never ends feeds nobody. A
deadlocking answer (the stub's bug, the one in the title) thus keeps none of the points.
"""
from dataclasses import replace

from grader.testing import Failure, check, plural

# Failures that belong to test_dinner_always_ends; the other tests leave them to it.
NOT_ENDING = {"deadlock", "livelock", "busy_wait", "timeout"}
# A dinner of 5 philosophers eating twice runs about 750 steps of philosophers.py, so a
# philosopher still going after it is retrying forever (a livelock).
MAX_STEPS = 3_000


def test_dinner_always_ends(student, engine, exercise):
    """dine() returns on every schedule: no deadlock, no livelock."""
    dine = _dine(student)
    n, meals = exercise.params["small_table"], exercise.params["meals"]

    def scenario(run):
        table = Table(run, n)
        dine(n, meals, table.eat)

    engine.explore(scenario, schedules=exercise.params["schedules_ending"],
                   max_steps=MAX_STEPS).assert_ok()


def test_everyone_eats_exactly_meals(student, engine, exercise):
    """Each philosopher ate exactly `meals` times when dine() returns."""
    dine = _dine(student)
    n, meals = exercise.params["table"], exercise.params["meals"]

    def scenario(run):
        table = Table(run, n)
        dine(n, meals, table.eat)
        wrong = [f"philosopher {i} ate {plural(count, 'time')}, expected {meals}"
                 for i, count in enumerate(table.meals) if count != meals]
        still_eating = run.alive()
        when = (f"dine({n}, {meals}, eat) returned while {', '.join(still_eating)} still ran"
                if still_eating else f"after dine({n}, {meals}, eat) returned")
        run.check(not wrong, f"{when}: " + "; ".join(wrong))

    _judge(engine.explore(scenario, schedules=exercise.params["schedules_meals"],
                          stop_at_first=False, max_steps=MAX_STEPS))


def test_neighbours_never_eat_at_once(student, engine, exercise):
    """Two philosophers sharing a fork never eat at the same time."""
    dine = _dine(student)
    n, meals = exercise.params["table"], exercise.params["meals"]

    def scenario(run):
        dine(n, meals, Table(run, n, check_neighbours=True).eat)

    _judge(engine.explore(scenario, schedules=exercise.params["schedules_neighbours"],
                          stop_at_first=False, max_steps=MAX_STEPS))


def test_non_neighbours_eat_at_once(student, engine, exercise):
    """Philosophers who share no fork eat at the same time, on some schedule."""
    dine = _dine(student)
    n, meals = exercise.params["table"], exercise.params["meals"]
    tables = []

    def scenario(run):
        table = Table(run, n)
        tables.append(table)
        dine(n, meals, table.eat)

    exploration = engine.explore(scenario, schedules=exercise.params["schedules_parallel"],
                                 stop_at_first=False, max_steps=MAX_STEPS)
    _judge(exploration)
    most = max((table.most_at_once for table in tables), default=0)
    check(most >= 2,
          f"on {plural(len(tables), 'dinner')} of {n} philosophers, no two philosophers "
          "ever ate at the same time, not even two who share no fork (like 0 and 2): one lock "
          "for the whole table makes everyone wait for everyone; lock each fork on its own",
          verdict="serial", most_eating_at_once=most)


# What the tests share: the table the test lays, and how a dinner is judged.

class Table:
    """The test's side of the dinner: eat(i) counts meals, notes who eats at the same
    time, and lets other philosophers run while philosopher i eats."""

    def __init__(self, run, n, check_neighbours=False):
        self.run, self.n, self.check_neighbours = run, n, check_neighbours
        self.meals = [0] * n
        self.eating: set[int] = set()
        self.most_at_once = 0

    def eat(self, i):
        run, n = self.run, self.n
        run.check(isinstance(i, int) and 0 <= i < n,
                  f"eat({i!r}) was called, but the philosophers are numbered 0 to {n - 1}")
        if self.check_neighbours:
            for other in ((i - 1) % n, (i + 1) % n):
                if other in self.eating:
                    a, b = sorted((i, other))
                    run.check(False, f"philosophers {a} and {b} (neighbours) ate at the same "
                                     f"time: they share fork {max(a, b) if b - a == 1 else 0}, so "
                                     "one of them ate without holding both its forks",
                              verdict="race")
            run.check(i not in self.eating,
                      f"philosopher {i} started eating while already eating: eat({i}) was "
                      "called from two threads at once")
        self.eating.add(i)
        self.most_at_once = max(self.most_at_once, len(self.eating))
        self.meals[i] += 1
        # A meal takes a while: other philosophers may run meanwhile.
        run.point()
        run.point()
        self.eating.discard(i)


def _dine(student):
    return student.module("philosophers").dine


def _judge(exploration):
    """Fail with the first schedule that went wrong in the way this test judges; else, when
    some dinner never ended, fail too: the property is awarded only to dinners that end."""
    judged = [f for f in exploration.failures if f.verdict not in NOT_ENDING]
    if judged:
        replace(exploration, failures=judged).assert_ok()
    stuck = [f for f in exploration.failures if f.verdict in NOT_ENDING]
    if stuck:
        tried = plural(exploration.schedules, "schedule")
        ended = exploration.schedules - len(stuck)
        try:
            replace(exploration, failures=stuck).assert_ok()
        except Failure as failure:
            raise Failure(f"not awarded: the dinner did not end on {len(stuck)} of the {tried} "
                          f"tried ({ended} ended), and this property only counts for a dinner "
                          f"that always ends. {failure.message}", failure.verdict,
                          **failure.details) from None
