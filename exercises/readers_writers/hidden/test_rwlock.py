"""Hidden tests of readers_writers: a writer excludes everyone, readers share, and nobody
starves: neither a writer behind a stream of readers nor a reader behind a stream of
writers.

Every check runs the student's RWLock under the controlled scheduler, which may switch
threads between any two bytecodes of rwlock.py and at every lock operation. The threads'
own code (reading, writing, arriving) is the test's, and waits on virtual time.

Starvation, precisely: one visitor (a writer, or a reader) starts waiting while the
database is busy; then a stream of visitors of the other kind arrives, one every
millisecond, each arriving while the one before is still inside. An *overtake* is a
visitor of the stream, who arrived after the waiting one had started waiting, going in
before it. A fair lock lets at most one phase of the other kind in first; a lock that
prefers readers (or writers) lets the whole stream in, and it does so on every schedule
tried. The contract is "at most one overtake on EVERY schedule": a threading.Lock hands
itself to no particular waiter ("which one proceeds is not defined"), so a lock that
leaves the turn to whichever thread wins a mutex (a turnstile of plain Locks, a Condition
whose woken threads race newcomers for its lock) lets a whole stream overtake on the
schedules where the mutex chooses badly, and a real machine may choose that way.
The README promises the same bound, and a passing test reports the worst schedule's count.
"""
from dataclasses import replace

from grader.testing import Failure, plural

MS = 0.001  # the timeline of the starvation and sharing scenarios, in virtual seconds


def test_one_thread_read_then_write(student, engine):
    """In one thread: read, write, both context managers, and an exception inside one."""
    RWLock = _rwlock(student)

    def scenario(run):
        rw = RWLock()
        rw.acquire_read()
        rw.release_read()
        rw.acquire_write()
        rw.release_write()
        with rw.read_locked():
            pass
        with rw.write_locked():
            pass
        try:
            with rw.write_locked():
                raise KeyError("calibration constant missing")
        except KeyError:
            pass
        # If the exception left the write lock held, this waits forever: a deadlock.
        with rw.read_locked():
            pass
        with rw.write_locked():
            pass

    engine.explore(scenario, schedules=1).assert_ok()


def test_writer_excludes_everyone(student, engine, exercise):
    """Readers and writers at once: a writer is always alone in the database."""
    RWLock = _rwlock(student)
    readers, writers, rounds = (exercise.params[k] for k in ("readers", "writers", "rounds"))

    def scenario(run):
        rw = RWLock()
        room = Room(run)

        def reader():
            for _ in range(rounds):
                rw.acquire_read()
                room.enter("reader")
                room.leave("reader")
                rw.release_read()

        def writer():
            for _ in range(rounds):
                with rw.write_locked():
                    room.enter("writer")
                    room.leave("writer")

        for i in range(readers):
            run.spawn(reader, name=f"reader {i + 1}")
        for i in range(writers):
            run.spawn(writer, name=f"writer {i + 1}")
        run.join_all()

    engine.explore(scenario).assert_ok()


def test_readers_share(student, engine, exercise):
    """Readers share, on every schedule: a reader arriving while another reads goes in at
    once, and two readers queued behind a writer go in together when it leaves."""
    RWLock = _rwlock(student)

    def arriving(run):
        room = visit(run, RWLock(), [("reader 1", "read", 0, 2), ("reader 2", "read", 1, 2),
                                     ("reader 3", "read", 1.5, 1)])
        run.check(room.most_readers >= 2,
                  "reader 2 arrived while reader 1 was reading, and waited for it to leave "
                  "(so did reader 3): readers do not change the data, so they may share it; "
                  "one lock for everybody makes every monitor wait for every other",
                  verdict="serial", most_readers_at_once=room.most_readers)

    def queued(run):
        # Writer 0 writes from 0 to 2 ms; readers A and B arrive meanwhile and wait, then
        # writer 1 arrives behind them. When writer 0 leaves, A and B may both go in.
        room = visit(run, RWLock(), [("writer 0", "write", 0, 2), ("reader A", "read", 0.5, 2),
                                     ("reader B", "read", 0.6, 2), ("writer 1", "write", 0.7, 1)])
        if room.most_readers >= 2:
            return
        order = [name for name in room.entered if name != "writer 0"]
        first, second = sorted((order.index("reader A"), order.index("reader B")))
        between = order[first + 1:second]
        if between:
            why = (f"{' and '.join(between)}, who arrived after both readers, went in between "
                   "them: a writer arriving later should wait for the readers ahead of it, "
                   "who may all go in together")
            verdict = "starvation"
        else:
            why = ("the second reader went in only after the first had left, although nobody "
                   "else went in meanwhile: was it woken when its turn came? (notify() wakes "
                   "one waiter, not necessarily the one whose turn it is)")
            verdict = "serial"
        run.check(False, "readers A and B both waited while writer 0 wrote; when it left, they "
                         f"did not read together: the order was {', '.join(order)}. "
                         f"{why[0].upper() + why[1:]}",
                  verdict=verdict, most_readers_at_once=room.most_readers)

    schedules = exercise.params["schedules_timeline"]
    engine.explore(arriving, schedules=schedules).assert_ok()
    engine.explore(queued, schedules=schedules).assert_ok()


def test_writer_not_starved(student, engine, exercise, record_property):
    """A writer waiting behind a steady stream of readers gets in, at the latest after one
    reader that arrived after it, on every schedule."""
    stream = exercise.params["stream"]
    # Reader 0 reads from 0 to 2 ms; the writer arrives at 1 ms and must wait for it.
    # Readers 1, 2, ... arrive at 1.5, 2.5, ... ms and read 1.7 ms each: each arrives while
    # the one before still reads, so with reader preference the room never empties.
    plan = [("reader 0", "read", 0, 2), ("the writer", "write", 1, 1)]
    plan += [(f"reader {k}", "read", 0.5 + k, 1.7) for k in range(1, stream + 1)]
    story = (f"it arrived while reader 0 was reading, then {stream} readers arrived one after "
             "another, each while the one before was still reading")
    preference = ("reader preference: writers can starve. Once a writer waits, readers "
                  "arriving after it should wait for it")
    _judge_starvation(student, engine, exercise, record_property, plan, "the writer", "reader",
                      story, preference)


def test_reader_not_starved(student, engine, exercise, record_property):
    """A reader waiting behind a steady stream of writers gets in, at the latest after one
    writer that arrived after it, on every schedule."""
    stream = exercise.params["stream"]
    # Writer 0 writes from 0 to 2 ms; the reader arrives at 1 ms and must wait for it.
    # Writers 1, 2, ... arrive at 1.5, 2.5, ... ms and write 2 ms each: with writer
    # preference there is always a writer waiting when one leaves.
    plan = [("writer 0", "write", 0, 2), ("the reader", "read", 1, 1)]
    plan += [(f"writer {k}", "write", 0.5 + k, 2) for k in range(1, stream + 1)]
    story = (f"it arrived while writer 0 was writing, then {stream} writers arrived one after "
             "another")
    preference = ("writer preference: readers can starve. A reader waiting when a writer "
                  "leaves should get in before writers that arrived after it")
    _judge_starvation(student, engine, exercise, record_property, plan, "the reader", "writer",
                      story, preference)


def _judge_starvation(student, engine, exercise, record_property, plan, waiting, stream, story,
                      preference):
    """The contract: on EVERY schedule tried, at most one visitor of the stream that arrived
    after the waiting one goes in before it. A threading.Lock promises no order among its
    waiters, so a lock that leaves the turn to whichever thread wins a mutex can starve on a
    real machine: the schedules where the mutex chose badly count."""
    RWLock = _rwlock(student)
    counts = []

    def scenario(run):
        room = visit(run, RWLock(), plan)
        before = room.entered[:room.entered.index(waiting)]
        overtakes = sum(1 for name in before if name.startswith(stream) and name != f"{stream} 0")
        counts.append(overtakes)
        run.check(overtakes <= 1,
                  f"{waiting} waited while {plural(overtakes, stream)} that arrived after it "
                  f"went in first: {story}",
                  verdict="starvation", overtakes=overtakes)

    exploration = engine.explore(scenario, schedules=exercise.params["schedules_timeline"],
                                 stop_at_first=False)
    starved = [f for f in exploration.failures if f.verdict == "starvation"]
    others = [f for f in exploration.failures if f.verdict != "starvation"]
    if others:  # a deadlock or a race in the timeline: that is the verdict
        replace(exploration, failures=others).assert_ok()
    if starved:
        tried = plural(exploration.schedules, "schedule")
        if len(starved) == exploration.schedules:
            why = f"on every one of the {tried} tried ({preference})"
        else:
            why = (f"on {len(starved)} of the {tried} tried; on the others it got in sooner. "
                   "Who went first was left to whoever won a lock: a threading.Lock hands "
                   "itself to no particular waiter, and a woken thread must win the lock "
                   "again against newcomers. The turn must be in the lock's own state "
                   "(whose turn it is), not in who wins a lock")
        try:
            replace(exploration, failures=starved).assert_ok()
        except Failure as failure:
            raise Failure(f"{failure.message}; {why}", "starvation",
                          **failure.details, overtakes_per_schedule=counts) from None
    _record_overtakes(record_property, waiting, stream, counts)


def _record_overtakes(record_property, waiting, stream, overtakes):
    """A passing starvation test says how long the waiting thread waited, in turns, on the
    schedule where it waited longest (the contract's measure)."""
    tried = plural(len(overtakes), "schedule")
    record_property("note", f"no {stream} arriving after {waiting} went in before it, on any of the {tried}"
                    if max(overtakes) == 0 else
                    f"on every one of the {tried}, at most {plural(max(overtakes), stream)} "
                    f"arriving after {waiting} went in before it")
    record_property("details", {"figures": {f"{stream}s that went in before {waiting} (max)": max(overtakes),
                                            "schedules": len(overtakes)}})


# What the tests share: the room the test keeps track of, and the timelines of visitors.

class Room:
    """Who is inside the database, checked at every entry."""

    def __init__(self, run):
        self.run = run
        self.inside = {"reader": 0, "writer": 0}
        self.most_readers = 0

    def enter(self, kind):
        self.check_alone(kind)
        self.inside[kind] += 1
        self.most_readers = max(self.most_readers, self.inside["reader"])
        self.run.point()  # reading or writing takes a moment: others may run meanwhile
        self.run.point()

    def check_alone(self, kind):
        """Fail the schedule if `kind` goes in while the room does not allow it."""
        run, readers, writers = self.run, self.inside["reader"], self.inside["writer"]
        if kind == "writer":
            run.check(not writers, "two writers were writing at the same time", verdict="race")
            run.check(not readers, f"a writer went in while {plural(readers, 'reader was', 'readers were')} "
                                   "reading: a writer must have the database to itself", verdict="race")
        else:
            run.check(not writers, "a reader went in while a writer was writing: it may read "
                                   "half-written calibration constants", verdict="race")

    def leave(self, kind):
        self.inside[kind] -= 1


def visit(run, rw, plan):
    """Start one thread per (name, "read" | "write", arrives at ms, stays ms); join them.
    Returns the Room, with the order in which visitors went in (`room.entered`)."""
    room = Room(run)
    room.entered = []

    def visitor(name, kind, arrives, stays):
        run.sleep(arrives * MS)
        acquire, release = ((rw.acquire_read, rw.release_read) if kind == "read"
                            else (rw.acquire_write, rw.release_write))
        acquire()
        room.entered.append(name)
        # Sharing and starvation count only for a lock that excludes: a lock that lets
        # everybody in at once has nobody waiting, and would pass them trivially.
        room.check_alone("writer" if kind == "write" else "reader")
        room.inside["reader" if kind == "read" else "writer"] += 1
        room.most_readers = max(room.most_readers, room.inside["reader"])
        run.sleep(stays * MS)
        room.inside["reader" if kind == "read" else "writer"] -= 1
        release()

    for name, kind, arrives, stays in plan:
        run.spawn(visitor, name, kind, arrives, stays, name=name)
    run.join_all()
    return room


def _rwlock(student):
    return student.module("rwlock").RWLock
