"""Grading a class on Dask: an embedded cluster, Slurm or HTCondor nodes, or workers started
by hand. The same contract as the local batch (grader/batch.py): every job is handed to
ON_DONE in the driver's thread as it finishes, so the driver stays the one writer of the
gradebook and a stopped run resumes.

Imported only when a cluster option is given, and dask is imported only inside the
functions that need it: `import grader` never imports dask, and without the `cluster`
extra a cluster option is one line saying how to install it.

**Jobs carry bytes, not paths.** A `Payload` holds the student's files by name, the
exercise id, the exercise's content hash and the grader version. A worker writes the
files into a folder of its own, looks the exercise up in its own catalogue and grades only
if the hash and version are the driver's; otherwise it answers with the mismatch, which
the driver stores as a non-final error (regraded next run), never as a grade. So a zip
unpacked on the driver grades on a node with no shared file system. Each answer names
the worker's host and usable cores, kept in the result (`ExerciseResult.graded_on`).

**A timing job gets a whole machine.** One worker per machine, started with
`--resources cores=N` and N threads. A correctness job asks for `cores=1`, a timing job
for `cores=N`: Dask starts a task only when its resources are free on that worker, so a
timing job runs alone on its machine and nothing starts beside it. Every job carries a
request (an unrestricted task would run beside a timing job). Correctness jobs are
submitted first and with a higher priority, as the local plan orders them.

**Faults.** A worker lost mid-job (killed, out of memory, node gone) is rescheduled by
Dask on another worker; a job that kills `allowed_failures + 1` workers ends with
`KilledWorker`. Dask counts each death against every job that worker held, so such a
job is run once more alone on a worker (it asks for all its cores): a bystander then
grades normally, and the culprit's second `KilledWorker` is handed to ON_DONE as an
error, which the CLI stores as a grader failure (non-final: regraded next run). Test processes left by a dead worker are found by a mark
in their environment and killed by the next job on that host and at the end of the run.
Ctrl-C and SIGTERM cancel the futures and kill the test processes on every worker.
"""
from __future__ import annotations

import dataclasses
import importlib.util
import logging
import os
import shutil
import socket
import tempfile
import threading
import time
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

import grader
from grader.model import REPLAY, ExerciseResult, TestOutcome

if TYPE_CHECKING:
    from grader.batch import Done, Job
    from grader.catalog import Exercise

log = logging.getLogger(__name__)

INSTALL = "pip install 'concurrency-grader[cluster]'"
RESOURCE = "cores"  # the worker resource every job asks for
# Worker deaths a job may cause before Dask gives up on it with KilledWorker (Dask's
# distributed.scheduler.allowed-failures; its default is 3 too).
ALLOWED_FAILURES = 3
# Set in a worker process; its test processes inherit it (the sandbox passes the
# environment on). After the worker dies, the next job on the host kills what still has it.
WORKER_MARK = "CONCURRENCY_GRADER_WORKER"
KINDS = ("local", "slurm", "htcondor", "scheduler-file")


class ClusterError(Exception):
    """The cluster cannot be used as asked (extra missing, bad option): one line, exit 2."""


def require() -> None:
    """Raise ClusterError with the install command when the extra is not installed."""
    missing = [m for m in ("distributed", "dask") if importlib.util.find_spec(m) is None]
    if missing:
        raise ClusterError(f"grading on a cluster needs Dask distributed, which is not "
                           f"installed: {INSTALL}")


# ---------------------------------------------------------------- what a cluster is

@dataclass(frozen=True)
class ClusterSpec:
    """Where the workers come from, and the cores of one worker (one machine)."""

    kind: str  # one of KINDS
    cores: int | None = None  # per worker; None: local: the usable cores, else: from the workers
    nodes: int = 1  # batch jobs to submit (slurm, htcondor), one worker each
    walltime: str = "01:00:00"
    queue: str | None = None
    memory: str | None = None  # per node; default: 2 GiB per core
    exclusive: bool = False
    scheduler_file: str | None = None

    def describe(self) -> str:
        if self.kind == "local":
            return f"an embedded Dask cluster on this machine ({self.cores} cores)"
        if self.kind == "scheduler-file":
            return f"the Dask scheduler of {self.scheduler_file}"
        return (f"{self.nodes} {self.kind} node{'s' if self.nodes != 1 else ''} of "
                f"{self.cores} cores{' (exclusive)' if self.exclusive else ''}")


def spec_from_args(args: Any) -> ClusterSpec | None:
    """The cluster the command line asks for, None for the local batch. Raises
    ClusterError for a missing extra or options that do not fit together."""
    chosen = [name for name, on in (("--cluster", args.cluster), ("--slurm", args.slurm),
                                    ("--htcondor", args.htcondor),
                                    ("--scheduler-file", args.scheduler_file)) if on]
    if not chosen:
        return None
    if len(chosen) > 1:
        raise ClusterError(f"{' and '.join(chosen)}: choose one way to get workers")
    require()
    cores = args.cores
    if cores is not None and cores < 1:
        raise ClusterError(f"--cores {cores}: give at least 1")
    if args.nodes < 1:
        raise ClusterError(f"--nodes {args.nodes}: give at least 1")
    if args.cluster:
        kind, _, count = args.cluster.partition(":")
        if kind != "local" or (count and not count.isdigit()) or count == "0":
            raise ClusterError(f"--cluster {args.cluster}: expected local or local:N "
                               f"(N cores of this machine)")
        from grader.cores import usable_cores
        return ClusterSpec("local", cores=int(count) if count else cores or usable_cores().usable)
    if args.scheduler_file:
        if not Path(args.scheduler_file).is_file():
            raise ClusterError(f"--scheduler-file {args.scheduler_file}: no such file "
                               f"(start the scheduler with `dask scheduler --scheduler-file F`)")
        return ClusterSpec("scheduler-file", cores=cores, scheduler_file=args.scheduler_file)
    kind = "slurm" if args.slurm else "htcondor"
    if importlib.util.find_spec("dask_jobqueue") is None:
        raise ClusterError(f"--{kind} needs dask-jobqueue, which is not installed: {INSTALL}")
    if cores is None:
        raise ClusterError(f"--{kind} needs --cores N: the cores of one node")
    _seconds(args.walltime)  # a malformed walltime is refused here, not by sbatch later
    return ClusterSpec(kind, cores=cores, nodes=args.nodes, walltime=args.walltime,
                       queue=args.queue, memory=args.memory, exclusive=args.exclusive)


def jobqueue_cluster(spec: ClusterSpec) -> Any:
    """The dask-jobqueue cluster object for SPEC (not scaled: no job is submitted yet).
    One worker process per node with `cores` threads and `--resources cores=N`."""
    assert spec.cores is not None
    worker_args = ["--resources", f"{RESOURCE}={spec.cores}"]
    memory = spec.memory or f"{2 * spec.cores}GiB"
    common: dict[str, Any] = dict(cores=spec.cores, processes=1, memory=memory,
                                  worker_extra_args=worker_args, job_name="grader-worker")
    if spec.kind == "slurm":
        from dask_jobqueue import SLURMCluster
        return SLURMCluster(queue=spec.queue, walltime=spec.walltime,
                            job_extra_directives=["--exclusive"] if spec.exclusive else [],
                            **common)
    if spec.kind == "htcondor":
        from dask_jobqueue import HTCondorCluster
        # HTCondor has no --exclusive: a whole-machine slot is asked for by the common
        # +RequiresWholeMachine convention (the pool's admin must honour it).
        extra = {"+RequiresWholeMachine": "True"} if spec.exclusive else {}
        if spec.queue:
            extra["+JobFlavour"] = f'"{spec.queue}"'
        extra["+MaxRuntime"] = str(_seconds(spec.walltime))  # HTCondor's walltime
        return HTCondorCluster(disk=f"{spec.cores}GiB", job_extra_directives=extra, **common)
    raise ClusterError(f"no jobqueue cluster for {spec.kind}")


def _seconds(walltime: str) -> int:
    """HH:MM:SS (or MM:SS, or seconds) as seconds."""
    try:
        parts = [int(p) for p in walltime.split(":")]
    except ValueError:
        raise ClusterError(f"--walltime {walltime}: expected HH:MM:SS") from None
    if not 1 <= len(parts) <= 3 or any(p < 0 for p in parts):
        raise ClusterError(f"--walltime {walltime}: expected HH:MM:SS")
    seconds = 0
    for part in parts:
        seconds = seconds * 60 + part
    return seconds


# ---------------------------------------------------------------- what travels

@dataclass(frozen=True)
class Payload:
    """One job as it travels: bytes and names, no path of the driver's."""

    student: str
    exercise: str  # the exercise id
    exercise_hash: str  # Exercise.content_hash() on the driver
    grader_version: str
    files: dict[str, bytes]  # student file name -> its bytes
    file_hash: str  # the gradebook key's hash of those files
    replay_location: str  # the submission's folder as the driver names it, for replay commands
    catalog: str  # the driver's --exercises, used by a worker that has it (shared file system)
    timing: bool = False


@dataclass(frozen=True)
class Answer:
    """What a worker sends back: a result, or why it could not grade (a mismatch)."""

    result: ExerciseResult | None
    problem: str = ""  # set when result is None
    host: str = ""
    cores: int = 0  # usable cores of that worker's machine
    started: float = 0.0  # wall clock on the worker, for tests of exclusivity
    finished: float = 0.0
    worker: str = ""  # process id on that host


def payload_for(job: "Job", catalog: Path) -> Payload:
    from grader.runner import replay_location
    files = {name: job.submission.files[name].read_bytes()
             for name in job.exercise.files if name in job.submission.files}
    return Payload(job.submission.student, job.exercise.id, job.key.exercise_hash,
                   job.key.grader_version, files, job.key.file_hash,
                   replay_location(job.submission), str(catalog), job.exercise.timing)


# ---------------------------------------------------------------- on a worker

_catalogs: dict[str, tuple[Any, dict[str, str]]] = {}  # root -> (catalog, hash per exercise as loaded)
_running = 0  # grading calls in progress in this worker process
_running_lock = threading.Lock()


def grade_payload(payload: Payload) -> Answer:
    """Grade one job on a worker: stage the bytes, check the exercise and grader version
    against this worker's own catalogue, run the hidden tests."""
    global _running
    from grader.cores import usable_cores
    started = time.time()
    _mark_this_worker()
    host, cores = socket.gethostname(), usable_cores().usable

    def answer(result: ExerciseResult | None, problem: str = "") -> Answer:
        if result is not None:
            result = dataclasses.replace(result, graded_on={"host": host, "cores": cores})
        return Answer(result, problem, host, cores, started, time.time(), str(os.getpid()))

    exercise, problem = _own_exercise(payload, host)
    if exercise is None:
        return answer(None, problem)
    from grader import runner
    from grader.submissions import Submission
    with _running_lock:
        _running += 1
    folder = Path(tempfile.mkdtemp(prefix=f"grader-job-{payload.exercise}-"))
    try:
        files = {}
        for name, data in payload.files.items():
            if Path(name).name != name or name not in exercise.files:
                return answer(None, f"the job carries a file '{name}' that exercise "
                                    f"{exercise.id} does not grade")
            (folder / name).write_bytes(data)
            files[name] = folder / name
        if files and runner.hash_files(files) != payload.file_hash:
            return answer(None, "the student's files changed on the way to the worker")
        result = runner.grade_exercise(Submission(payload.student, files, folder), exercise)
        return answer(_replay_from_driver(result, runner.replay_location(
            Submission(payload.student, files, folder)), payload.replay_location))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        with _running_lock:
            _running -= 1


def _own_exercise(payload: Payload, host: str) -> tuple["Exercise | None", str]:
    """The worker's exercise for PAYLOAD, or why it cannot grade it."""
    from grader.catalog import CatalogError, load_catalog
    if payload.grader_version != grader.__version__:
        return None, (f"worker {host} runs grader {grader.__version__}, the driver "
                      f"{payload.grader_version}: install the same grader on every worker")
    root = Path(os.environ.get("GRADER_EXERCISES") or payload.catalog)
    if not root.is_dir():  # no shared file system: the exercises installed beside the grader
        root = Path(grader.__file__).resolve().parent.parent / "exercises"
    try:
        # Loaded once per worker; loaded again when an exercise's files changed since, so
        # a long-lived worker never grades with an old exercise.yaml under a new hash.
        catalog, loaded = _catalogs.get(str(root), (None, {}))
        known = {e.id: e for e in catalog.exercises} if catalog is not None else {}
        exercise = known.get(payload.exercise)  # an exercise added since: loaded below
        found = exercise.content_hash() if exercise is not None else ""
        if exercise is None or found != loaded.get(exercise.id):
            catalog = load_catalog(root, lenient=True)
            loaded = {e.id: e.content_hash() for e in catalog.exercises}
            _catalogs[str(root)] = (catalog, loaded)
            exercise = catalog.get(payload.exercise)
            found = loaded[exercise.id]
    except CatalogError as exc:
        return None, f"worker {host} cannot grade {payload.exercise}: {exc}"
    if found != payload.exercise_hash:
        return None, (f"worker {host} has exercise {payload.exercise} at version {found} "
                      f"({root}), the driver {payload.exercise_hash}: copy the same "
                      f"exercises to every worker")
    return exercise, ""


def _replay_from_driver(result: ExerciseResult, here: str, there: str) -> ExerciseResult:
    """Replay commands name the worker's staging folder: put back the driver's name."""
    if here == there:
        return result
    tests = []
    for test in result.tests:
        replay = test.details.get(REPLAY)
        if isinstance(replay, str) and here in replay:
            test = dataclasses.replace(test, details={**test.details,
                                                      REPLAY: replay.replace(here, there)})
        tests.append(test)
    return dataclasses.replace(result, tests=tuple(tests))


_marked_pid = 0  # the process that set its mark (a mark inherited from a parent is not ours)


def _mark_this_worker() -> None:
    """The first job of a worker process marks it, and kills what a dead predecessor left."""
    global _marked_pid
    if _marked_pid != os.getpid():
        _marked_pid = os.getpid()
        os.environ[WORKER_MARK] = _identity(os.getpid())
        _undo_nanny_environment()
        reap_orphans()


def _undo_nanny_environment() -> None:
    """Dask's nanny starts a worker with OMP_NUM_THREADS=1 and the like (its config's
    pre-spawn-environ). The test processes inherit the worker's environment: they get the
    machine's, as under the local batch, or a student's numpy would be capped to a thread."""
    try:
        import dask
        injected = dask.config.get("distributed.nanny.pre-spawn-environ", {}) or {}
    except Exception:
        return
    for name, value in injected.items():
        if os.environ.get(name) == str(value):
            os.environ.pop(name)


def _identity(pid: int) -> str:
    import psutil
    try:
        return f"{pid}:{psutil.Process(pid).create_time():.2f}"
    except psutil.Error:
        return f"{pid}:0"


def reap_orphans() -> int:
    """Kill the test processes of worker processes that are gone (on this host)."""
    import psutil
    killed = []
    for proc in psutil.process_iter():
        try:
            mark = proc.environ().get(WORKER_MARK)
        except (psutil.Error, OSError):
            continue
        if not mark or proc.pid == os.getpid():
            continue
        pid = int(mark.partition(":")[0])
        if pid != proc.pid and _identity(pid) != mark:  # its worker is dead
            try:
                proc.kill()
                killed.append(proc)
            except psutil.Error:
                pass
    psutil.wait_procs(killed, timeout=2.0)
    return len(killed)


def _reap_zombies() -> None:
    """Orphans killed above whose parent we became (a subreaper adopts them) are reaped."""
    import psutil
    for child in psutil.Process().children():
        try:
            if child.status() == psutil.STATUS_ZOMBIE:
                child.wait(timeout=0)
        except (psutil.Error, OSError):
            continue


def stop_tests() -> None:
    """On every worker when the driver stops: kill the running test processes now, then,
    once the interrupted jobs have left, let this worker grade again (it may outlive us)."""
    from grader import isolation
    isolation.cancel_all()

    def reopen() -> None:
        deadline = time.monotonic() + 60
        while _running and time.monotonic() < deadline:
            time.sleep(0.1)
        isolation.cancelled.clear()  # the stop flag cancel_all set

    threading.Thread(target=reopen, daemon=True).start()


# ---------------------------------------------------------------- on the driver

def run(todo: Sequence["Job"], spec: ClusterSpec, *, catalog: Path,
        on_done: Callable[["Done"], None],
        grade: Callable[[Payload], Answer] | None = None,
        allowed_failures: int | None = None,
        on_client: Callable[[Any], None] | None = None) -> None:
    """Grade TODO on the cluster SPEC, calling ON_DONE in this thread as each job
    finishes (a result, or the error that ended it: KilledWorker after repeated worker
    deaths). GRADE runs on the workers (default: grade_payload; tests pass stand-ins);
    ON_CLIENT, if given, gets the Dask client once the cluster is up and every job's
    bytes are read (tests use it to move the workers, or to kill one).

    On Ctrl-C or SIGTERM (KeyboardInterrupt): the futures are cancelled, every worker
    kills its test processes, jobs that did finish are still handed to ON_DONE, and the
    exception goes on."""
    if not todo:
        return
    import dask
    import distributed  # noqa: F401  (its import sets its loggers' levels: then ours)
    # Dask's own info and warning lines (scheduler and worker start, every connection, a
    # worker restarted) are not the grader's news: a job that failed reaches ON_DONE, and
    # Dask's errors (a job given up after killing workers) still show. --debug shows all.
    quiet = logging.getLogger("distributed")
    level = quiet.level
    if not log.isEnabledFor(logging.DEBUG):
        quiet.setLevel(logging.ERROR)
    try:
        # Every job's bytes are read before the first one starts: nothing on a worker
        # depends on the driver's files from then on.
        order = sorted(todo, key=lambda j: j.exercise.timing)  # correctness first
        payloads = [(job, payload_for(job, catalog)) for job in order]
        _run(payloads, spec, on_done, grade or grade_payload,
             ALLOWED_FAILURES if allowed_failures is None else allowed_failures, on_client, dask)
    finally:
        quiet.setLevel(level)
        reap_orphans()  # this host: a local cluster's killed workers leave tests here
        _reap_zombies()


def _run(payloads: list[tuple["Job", Payload]], spec: ClusterSpec,
         on_done: Callable[["Done"], None], grade: Callable[[Payload], Answer],
         allowed_failures: int, on_client: Callable[[Any], None] | None, dask: Any) -> None:
    with dask.config.set({"distributed.scheduler.allowed-failures": allowed_failures}), \
            _connected(spec) as (client, cores):
        if on_client is not None:
            on_client(client)
        from distributed import as_completed
        futures: dict[Any, tuple["Job", Payload]] = {}
        handled: set[Any] = set()
        alone: set[str] = set()  # keys of the jobs already run again alone
        # (job, payload, whole worker?) in the plan's order: correctness jobs first.
        waiting = deque((job, payload, job.exercise.timing) for job, payload in payloads)
        busy: dict[Any, int] = {}  # future in flight -> the cores it asked for
        capacity = _Capacity(client, spec, cores)
        finished = as_completed()

        def fill() -> None:
            """Submit what the cluster can run now, and no more. Dask counts a worker's
            death against every job the worker holds, running or queued: holding only
            what runs keeps a job that kills its worker from taking the queue with it."""
            while waiting:
                job, payload, whole = waiting[0]
                need = cores if whole else 1
                if busy and sum(busy.values()) + need > capacity():
                    return
                waiting.popleft()
                # Every job asks for cores: 1, or the whole worker (a timing job).
                future = client.submit(grade, payload, resources={RESOURCE: need}, pure=False,
                                       priority=0 if whole else 1,
                                       key=f"grade-{job.exercise.id}-{job.submission.student}-"
                                           f"{os.urandom(4).hex()}")
                futures[future] = (job, payload)
                busy[future] = need
                finished.add(future)

        try:
            fill()
            for future in finished:
                handled.add(future)
                busy.pop(future, None)
                job, payload = futures[future]
                if _killed_worker(future) and str(job.key) not in alone:
                    # Its worker's deaths may have been a neighbour's doing: run it again
                    # alone on a worker (next, asking for all its cores); only the job
                    # that kills workers dies again.
                    alone.add(str(job.key))
                    waiting.appendleft((job, payload, True))
                else:
                    on_done(_done(future, job))
                fill()
        except BaseException:
            pending = [f for f in futures if f not in handled]
            client.cancel([f for f in pending if not f.done()])
            try:
                client.run(stop_tests)
            except Exception as exc:  # a worker gone meanwhile: the others were told
                log.warning("could not reach every worker to stop its tests: %s", exc)
            for future in pending:  # what finished meanwhile is a real result: keep it
                if future.status == "finished":
                    try:
                        on_done(_done(future, futures[future][0]))
                    except BaseException:
                        continue
            raise
        finally:
            try:
                client.run(reap_orphans)
            except Exception as exc:
                log.warning("could not reach every worker to clean up: %s", exc)


class _Capacity:
    """The cores the cluster has, for `fill`: what the workers declare, or what was asked
    for while they are still coming (batch jobs waiting in the queue)."""

    def __init__(self, client: Any, spec: ClusterSpec, cores: int) -> None:
        self.client, self.expected = client, cores * (spec.nodes if spec.kind in ("slurm", "htcondor") else 1)
        self.known, self.checked = 0, 0.0
        self.live = spec.kind == "scheduler-file"  # workers come and go as they like

    def __call__(self) -> int:
        if not self.live:
            return self.expected
        if time.monotonic() - self.checked > 5.0:  # one round trip at most every 5 s
            self.checked = time.monotonic()
            workers = self.client.scheduler_info()["workers"].values()
            self.known = sum(int(w.get("resources", {}).get(RESOURCE, 0)) for w in workers)
        return max(self.known, 1)


def _killed_worker(future: Any) -> bool:
    from distributed import KilledWorker
    return future.status == "error" and isinstance(future.exception(), KilledWorker)


def _done(future: Any, job: "Job") -> "Done":
    from grader.batch import Done
    error = future.exception()
    if error is not None:
        if not isinstance(error, Exception):
            raise error
        return Done(job, None, error)
    try:
        reply: Answer = future.result()
    except Exception as exc:  # an answer this driver cannot read (another grader version?)
        return Done(job, None, exc)
    if reply.result is None:
        log.warning("%s · %s: not graded: %s", job.submission.student, job.exercise.id,
                    reply.problem)
        return Done(job, not_graded(job.exercise, reply.problem, reply.host, reply.cores))
    return Done(job, reply.result)


def not_graded(exercise: "Exercise", problem: str, host: str = "", cores: int = 0) -> ExerciseResult:
    """A worker that could not grade (another exercise version, another grader): an
    error, so the gradebook keeps it as non-final and the next run grades it again."""
    why = f"not graded: {problem}"
    tests = tuple(TestOutcome(t.name, t.title, t.points, 0.0, "not_judged", why)
                  for t in exercise.tests)
    return ExerciseResult(exercise.id, exercise.title, exercise.max_points, 0.0, tests,
                          status="error", message=why,
                          graded_on={"host": host, "cores": cores} if host else {})


@contextmanager
def _connected(spec: ClusterSpec) -> Iterator[tuple[Any, int]]:
    """A client of SPEC's cluster and the cores a timing job asks for; everything this
    started is shut down on the way out."""
    from distributed import Client
    if spec.kind == "scheduler-file":
        with Client(scheduler_file=spec.scheduler_file) as client:
            declared = _workers_cores(client)
            # More: a timing job would wait for ever; fewer: it would share its machine.
            if spec.cores is not None and spec.cores != declared:
                raise ClusterError(f"--cores {spec.cores}: the workers declare "
                                   f"{RESOURCE}={declared}; a timing job must ask for a "
                                   f"whole worker")
            yield client, declared
        return
    if spec.kind == "local":
        from distributed import LocalCluster
        assert spec.cores is not None
        cluster = LocalCluster(n_workers=1, threads_per_worker=spec.cores, processes=True,
                               resources={RESOURCE: spec.cores}, dashboard_address=":0",
                               silence_logs=logging.CRITICAL,
                               local_directory=tempfile.gettempdir())
    else:
        cluster = jobqueue_cluster(spec)
        cluster.scale(jobs=spec.nodes)
    stop = threading.Event()
    if spec.kind == "local":
        threading.Thread(target=_keep_a_worker, args=(cluster, stop), daemon=True,
                         name="grader-keep-a-worker").start()
    try:
        with Client(cluster) as client:
            yield client, spec.cores or 1
    finally:
        stop.set()
        cluster.close()


# A worker whose nanny could not restart it (under a heavy load, say) leaves the embedded
# cluster without any: after this many seconds alone, a new one is started.
NO_WORKER_SECONDS = 30.0


def _keep_a_worker(cluster: Any, stop: threading.Event) -> None:
    """The embedded cluster's watchdog: its jobs would otherwise wait for ever."""
    alone_since: float | None = None
    while not stop.wait(1.0):
        try:
            workers = len(cluster.scheduler_info.get("workers", {}))
        except Exception:
            continue
        if workers:
            alone_since = None
            continue
        alone_since = alone_since or time.monotonic()
        if time.monotonic() - alone_since < NO_WORKER_SECONDS or stop.is_set():
            continue
        log.warning("the embedded Dask cluster lost its worker and it did not come back "
                    "after %.0f s: starting a new one (its jobs are run again)",
                    NO_WORKER_SECONDS)
        try:
            cluster.scale(0)
            deadline = time.monotonic() + 60
            while cluster.workers and time.monotonic() < deadline and not stop.is_set():
                time.sleep(0.2)
            if not stop.is_set():
                cluster.scale(1)
        except Exception as exc:
            log.warning("could not start a new worker: %s", exc)
        alone_since = None


def _workers_cores(client: Any, timeout: float = 120.0) -> int:
    """The cores=N the workers started by hand declare. All must declare the same N: a
    timing job asks for N, which must be a whole worker, whichever it lands on."""
    client.wait_for_workers(1, timeout=timeout)
    declared = {info.get("resources", {}).get(RESOURCE)
                for info in client.scheduler_info()["workers"].values()}
    if None in declared:
        raise ClusterError(f"a worker was started without --resources {RESOURCE}=N: start "
                           f"every worker with `dask worker --nthreads N --resources {RESOURCE}=N`")
    if len(declared) != 1:
        raise ClusterError(f"the workers declare different {RESOURCE} ({sorted(declared)}): "
                           f"a timing job asks for a whole worker, so start every worker "
                           f"with the same --resources {RESOURCE}=N")
    return int(declared.pop())
