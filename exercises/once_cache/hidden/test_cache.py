"""Hidden tests of once_cache: each key is loaded once, different keys load at the same
time (each still once), and a failed load reaches every waiter, from one load, and is
tried again later.

The database counts its loads, and notes when each ran: a test that expects one load
says so, and a message says whether extra loads ran at the same time (check-then-load)
or one after another (waiters rerunning a load).

Every threaded check runs the student's OnceCache under the controlled scheduler, which
may switch threads between any two bytecodes of cache.py and at every lock operation.
`load` is a fake conditions database that takes half a second of *virtual* time: while
one thread is inside it, every other thread runs, so a key that is still missing during
its load is seen missing by everybody who asks meanwhile. The verdict is the same on
every run, and costs no real second.
"""
import threading
from collections import Counter

from grader.testing import Failure, check, plural


class DatabaseTimeout(Exception):
    """What the fake conditions database raises when a query fails."""


class Constants:
    """The calibration constants of one run, as one load returned them."""

    def __init__(self, key, load_number):
        self.key, self.load_number = key, load_number

    def __repr__(self):
        return f"<constants of {self.key!r} from load #{self.load_number}>"


class ConditionsDB:
    """A fake, slow conditions database; `load` is what the cache is given.

    `values` overrides what a key loads (to test 0.0 and None); `failing[key]` is how many
    of the first loads of `key` raise DatabaseTimeout (None: all of them)."""

    def __init__(self, run, seconds, values=None, failing=None):
        self.run, self.seconds = run, seconds
        self.values, self.failing = values or {}, failing or {}
        self.calls = Counter()
        self.spans = {}  # key: [(start, end)] of each load, in virtual seconds
        self.loaders = {}  # key: Counter of the threads (idents) that ran its loads
        self.busy = 0  # loads in progress right now
        self.most_busy = 0  # most loads in progress at once

    def load(self, key):
        self.calls[key] += 1
        self.loaders.setdefault(key, Counter())[threading.get_ident()] += 1
        number = self.calls[key]
        self.busy += 1
        self.most_busy = max(self.most_busy, self.busy)
        start = self.run.now()
        try:
            self.run.sleep(self.seconds)  # the query: every other thread may run meanwhile
        finally:
            self.busy -= 1
            self.spans.setdefault(key, []).append((start, self.run.now()))
        if key in self.failing and (self.failing[key] is None or number <= self.failing[key]):
            raise DatabaseTimeout(f"the conditions database timed out reading {key!r}")
        return self.values[key] if key in self.values else Constants(key, number)

    def raced(self, key):
        """Whether more than one thread loaded `key` (not one thread loading twice)."""
        return len(self.loaders.get(key, ())) > 1

    def how_loaded(self, key):
        """Why `key` was loaded more than once, from when its loads ran: at the same time
        (every thread found it missing: check-then-load), or one after another: after a
        failed load, threads that waited for it ran their own; after a load that worked,
        a thread asking as it ended found neither the value nor a load in progress."""
        if not self.calls[key]:
            return "never: no thread called load at all"
        most = max(self.loaders[key].values())
        if most > 1 and key in self.failing:
            return (f"{most} of them by one thread: it loaded again after its own load "
                    "failed (a retry), instead of raising the exception load raised")
        if most > 1:
            return (f"{most} of them by one thread: it called load again for a key it had "
                    "just loaded; one get, at most one load")
        if _overlap(self, key):
            return ("some of them at the same time: each thread found the key missing and "
                    "started its own load before the first one finished (check-then-load "
                    "with a gap as wide as the load); checking and recording \"being loaded\" "
                    "must be one step under a lock")
        if key in self.failing:
            return ("one after another: threads waited for the first load and then ran their "
                    "own; a waiter must take the result (or the exception) of the load it "
                    "waited for")
        return ("one after another: a thread asking just as the first load ended found "
                "neither the value in the cache nor a load in progress, and loaded again. "
                "Looking for the value and for a load in progress must be one critical "
                "section, and so must storing the value and ending the load")


def test_loads_once_and_returns_value(student, engine, exercise):
    """One thread: get returns load's value, and a second get does not load again."""
    OnceCache = _interface(student)
    falsy = {"pedestal-offset": 0.0, "dead-channel": None}

    def scenario(run):
        db = ConditionsDB(run, exercise.params["load_seconds"], values=falsy)
        cache = OnceCache(db.load)
        first = cache.get("run-42")
        run.check(isinstance(first, Constants) and first.key == "run-42",
                  f"get('run-42') returned {first!r}, not the value load('run-42') returned")
        again = cache.get("run-42")
        run.check(db.calls["run-42"] == 1,
                  f"get('run-42') twice in a row ran load('run-42') {plural(db.calls['run-42'], 'time')}: "
                  "the second get must find the value in the cache")
        run.check(again is first, f"the second get('run-42') returned {again!r}, the first {first!r}: "
                                  "expected the same object")
        other = cache.get("run-43")
        run.check(isinstance(other, Constants) and other.key == "run-43" and db.calls["run-43"] == 1,
                  f"get('run-43') after get('run-42') returned {other!r}: each key has its own value")
        for key, value in falsy.items():
            got = [cache.get(key), cache.get(key)]
            run.check(got == [value, value], f"get({key!r}) returned {got[0]!r} then {got[1]!r}, "
                                             f"but load({key!r}) returned {value!r}")
            run.check(db.calls[key] == 1,
                      f"load({key!r}) returned {value!r} and ran {plural(db.calls[key], 'time')} for "
                      f"two gets: a value of {value!r} is a value too; test whether the key is in "
                      "the cache, not whether its value is true or not None")

    # One thread has nothing to interleave: a single schedule says it all.
    engine.explore(scenario, schedules=1).assert_ok()


def test_threads_asking_at_once_load_once(student, engine, exercise):
    """Several threads ask for the same key at once: one load, one value for all."""
    OnceCache = _interface(student)
    askers = exercise.params["askers"]

    def scenario(run):
        seconds = exercise.params["load_seconds"]
        db = ConditionsDB(run, seconds)
        cache = OnceCache(db.load)
        # One more thread asks exactly when the load ends: between "not in the cache" and
        # "nobody is loading it" the value may have arrived (a second load, if the two
        # looks are not one critical section with the loader's bookkeeping).
        got = _ask_at_once(run, cache, "run-42", askers, late_at=seconds)
        loads = db.calls["run-42"]
        run.check(loads == 1, f"load('run-42') ran {plural(loads, 'time')} for "
                              f"{askers} threads asking at once and two more asking as the "
                              "load ended" + (
                                  f", {db.how_loaded('run-42')}" if loads > 1 else
                                  ": it must run once per key"),
                  verdict="race" if db.raced("run-42") else "wrong", loads=loads)
        values = {name: value for name, (kind, value) in got.items()}
        first = next(iter(values.values()))
        run.check(all(kind == "value" for kind, _ in got.values())
                  and all(v is first for v in values.values()) and isinstance(first, Constants),
                  f"{askers + 2} threads asking for 'run-42' got different answers: "
                  + "; ".join(f"{name} got {_show(outcome)}" for name, outcome in got.items()))

    engine.explore(scenario).assert_ok()


def test_different_keys_load_at_the_same_time(student, engine, exercise):
    """Two threads per key ask for two different keys: each key loads once, and the loads
    of the two keys overlap in time."""
    OnceCache = _interface(student)
    most_busy = 0

    def scenario(run):
        nonlocal most_busy
        db = ConditionsDB(run, exercise.params["load_seconds"])
        cache = OnceCache(db.load)
        got = {}

        def reconstruction(key, name):
            got[name] = cache.get(key)

        keys = ("run-42", "run-43")
        for key in keys:
            for asker in (1, 2):
                run.spawn(reconstruction, key, f"{key}/{asker}", name=f"asker {asker} of {key}")
        run.join_all()
        for key in keys:
            for asker in (1, 2):
                value = got.get(f"{key}/{asker}")
                run.check(isinstance(value, Constants) and value.key == key,
                          f"get({key!r}) returned {value!r} when other threads asked for "
                          "another key at the same time")
        # Overlapping loads are worth points only when each key still loads once: loads
        # that nobody coordinates overlap trivially.
        for key in keys:
            run.check(db.calls[key] == 1,
                      f"two threads asked for {key!r} while two others asked for another key: "
                      f"load({key!r}) ran {plural(db.calls[key], 'time')}, "
                      f"{db.how_loaded(key)}. Loads of different keys may overlap, but "
                      "each key is loaded once", verdict="race" if db.raced(key) else "wrong",
                      loads=db.calls[key])
        most_busy = max(most_busy, db.most_busy)

    # Without a lock held across loads, the two keys' loads overlap on every schedule (each
    # waits on the database while the other thread runs); with one, never. A few do.
    exploration = engine.explore(scenario, schedules=30)
    exploration.assert_ok()
    check(most_busy >= 2,
          f"load('run-42') and load('run-43') never ran at the same time on "
          f"{plural(exploration.schedules, 'schedule')}: a lock held while loading makes every "
          "thread wait for every load, even of another key. Hold a lock only to look up and "
          "record keys, never while load runs", verdict="serial", most_loads_at_once=most_busy)


def test_failed_load_reaches_every_waiter(student, engine, exercise):
    """load raises for a key that several threads are waiting for: they all get the error."""
    OnceCache = _interface(student)
    askers = exercise.params["askers"]

    def scenario(run):
        db = ConditionsDB(run, exercise.params["load_seconds"], failing={"run-13": None})
        cache = OnceCache(db.load)
        got = _ask_at_once(run, cache, "run-13", askers)
        loads = db.calls["run-13"]
        # Every waiter getting *an* exception is not enough: each must get the exception of
        # the load it waited for, not rerun the load (a database timing out gets a second,
        # third ... query at once).
        how = (f"load('run-13') raised DatabaseTimeout and ran {plural(loads, 'time')}, "
               f"{db.how_loaded('run-13')}" if loads else
               f"load('run-13') ran {db.how_loaded('run-13')}")
        run.check(loads == 1,
                  f"{askers} threads asked for 'run-13' at once: {how}. One failed load, its "
                  "exception to every thread that waited for it",
                  verdict="race" if _overlap(db, "run-13") else "wrong", loads=loads)
        wrong = {name: outcome for name, outcome in got.items() if outcome[0] != "timeout"}
        if wrong:
            nones = sum(1 for kind, value in wrong.values() if kind == "value" and value is None)
            if nones:
                why = (f"{nones} of them got None instead of the exception: a thread waiting "
                       "for a key whose load failed must get that exception")
            else:
                why = "each must get the exception load raised"
            run.check(False, f"load('run-13') raised DatabaseTimeout while {askers} threads were "
                             f"asking for it at once; " + "; ".join(
                                 f"{name} got {_show(outcome)}" for name, outcome in wrong.items())
                             + f": {why}")

    exploration = engine.explore(scenario)
    try:
        exploration.assert_ok()
    except Failure as failure:
        if failure.verdict != "deadlock":
            raise
        raise Failure(f"threads asking for 'run-13', whose load raised DatabaseTimeout, never "
                      f"returned: nobody told them the load had failed. {failure.message}",
                      "deadlock", **failure.details) from None


def test_failed_load_is_retried_later(student, engine, exercise):
    """A load that failed once is tried again by the next get: failures are not cached."""
    OnceCache = _interface(student)

    def scenario(run):
        db = ConditionsDB(run, exercise.params["load_seconds"], failing={"run-7": 1})
        cache = OnceCache(db.load)
        try:
            value = cache.get("run-7")
        except DatabaseTimeout:
            pass
        else:
            run.check(False, f"load('run-7') raised DatabaseTimeout, yet get('run-7') returned "
                             f"{value!r}: get must raise the exception load raised")
        try:
            value = cache.get("run-7")
        except DatabaseTimeout:
            run.check(False, f"load('run-7') failed once; the next get('run-7') raised "
                             f"DatabaseTimeout again, having called load "
                             f"{plural(db.calls['run-7'], 'time')} in all: a failed load must "
                             "not be kept in the cache, the database may be back (call load again)")
        run.check(db.calls["run-7"] == 2 and isinstance(value, Constants) and value.key == "run-7",
                  f"after a failed load('run-7'), the next get('run-7') returned {value!r} "
                  f"(load ran {plural(db.calls['run-7'], 'time')} in all): it must call load again "
                  "and return its value")

    engine.explore(scenario, schedules=1).assert_ok()


# What the tests above share.

def _interface(student):
    return student.module("cache").OnceCache


def _ask_at_once(run, cache, key, askers, late_at=None):
    """`askers` threads call cache.get(key) at once (and one more at virtual time
    `late_at`, if given); each thread's outcome, by name: ("value", v), ("timeout", exc)
    or ("error", exc)."""
    got = {}

    def reconstruction(name):
        if name.startswith("late reconstruction"):
            run.sleep(late_at)
        try:
            got[name] = ("value", cache.get(key))
        except DatabaseTimeout as exc:
            got[name] = ("timeout", exc)
        except Exception as exc:  # the student's own bug; Abort is a BaseException, untouched
            got[name] = ("error", exc)

    names = [f"reconstruction-{i}" for i in range(1, askers + 1)]
    if late_at is not None:
        names += ["late reconstruction", "late reconstruction 2"]
    for name in names:
        run.spawn(reconstruction, name, name=name)
    run.join_all()
    return {name: got[name] for name in names}


def _overlap(db, key):
    spans = sorted(db.spans.get(key, []))
    return any(later[0] < earlier[1] for earlier, later in zip(spans, spans[1:]))


def _show(outcome):
    kind, value = outcome
    if kind == "value":
        return repr(value)
    if kind == "timeout":
        return "DatabaseTimeout"
    return f"{type(value).__name__}: {value}"
