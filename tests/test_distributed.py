"""Grading on Dask (grader/distributed.py) and past one machine without it (grader/scaleout.py):
the same grades as the local batch, a timing job alone on its worker, a killed worker
costing nothing, bytes not paths, the batch scripts, shards merged into one gradebook."""
from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import signal
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import psutil
import pytest

from grader import cli
from grader.batch import Done, Job, plan
from grader.catalog import load_catalog
from grader.gradebook import Gradebook, Key
from grader import model
from grader.model import ExerciseResult

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "demo" / "class"
EXERCISES = REPO / "exercises"
HAS_DASK = importlib.util.find_spec("distributed") is not None
needs_dask = pytest.mark.skipif(
    not HAS_DASK, reason="Dask distributed is not installed (pip install '.[cluster]'; "
                         "make test installs it)")

if HAS_DASK:
    from grader import distributed as gd
# The stand-in jobs below are pickled by reference (Dask tries plain pickle first): a
# local cluster's workers import this file through the sys.path they inherit, workers
# started by hand get it on PYTHONPATH.
HERE_ON_PATH = {**os.environ, "PYTHONPATH": os.pathsep.join(
    filter(None, [str(Path(__file__).parent), os.environ.get("PYTHONPATH")]))}


# ---------------------------------------------------------------- without Dask

def test_import_grader_never_imports_dask() -> None:
    code = ("import sys, grader, grader.cli, grader.batch, grader.scaleout; "
            "grader.cli.build_parser(); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('dask', 'distributed', 'dask_jobqueue', 'grader.distributed')))")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_cluster_option_without_the_extra_is_one_line_saying_how_to_install(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name.split(".")[0] in ("dask", "distributed")
                        else real(name, *a))
    for option in (["--cluster", "local:2"], ["--slurm", "--cores", "4"],
                   ["--scheduler-file", str(tmp_path / "s.json")]):
        code = cli.main(["grade", str(DEMO), "--exercise", "race_counter",
                         "--out", str(tmp_path / "out"), *option])
        err = capsys.readouterr().err
        assert code == 2, err
        assert err.strip().splitlines() == [
            "grader: error: grading on a cluster needs Dask distributed, which is not "
            "installed: pip install 'concurrency-grader[cluster]'"]
    assert not (tmp_path / "out" / "gradebook.sqlite").exists()


@pytest.mark.parametrize("option, problem", [
    (["--cluster", "remote"], "--cluster remote: expected local or local:N"),
    (["--cluster", "local:0"], "--cluster local:0: expected local or local:N"),
    (["--cluster", "local", "--slurm"], "--cluster and --slurm: choose one"),
    (["--slurm"], "--slurm needs --cores N"),
    (["--htcondor", "--cores", "4", "--walltime", "2h"], "--walltime 2h: expected HH:MM:SS"),
    (["--shard", "4/3"], "--shard 4/3: I must be between 1 and N"),
    (["--shard", "two"], "--shard two: expected I/N"),
])
def test_options_that_cannot_work_exit_2_in_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], option: list[str],
        problem: str) -> None:
    if not HAS_DASK and option[0] != "--shard":
        pytest.skip("Dask distributed is not installed: the install line comes first")
    code = cli.main(["grade", str(DEMO), "--exercise", "race_counter",
                     "--out", str(tmp_path / "out"), *option])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and problem in err, err


# ---------------------------------------------------------------- shards and merge

def _fake_grade(submission, exercises, *, gate=None):  # the runner's seam: a grade from the bytes alone
    from grader.model import SubmissionResult
    results = []
    for exercise in exercises:
        data = b"".join(submission.files[n].read_bytes() for n in exercise.files
                        if n in submission.files)
        got = min(len(data) % 7, 1)  # deterministic, and not the same for everyone
        tests = tuple(model.TestOutcome(t.name, t.title, t.points, t.points * got,
                                  "passed" if got else "wrong") for t in exercise.tests)
        results.append(ExerciseResult(exercise.id, exercise.title, exercise.max_points,
                                      sum(t.points for t in tests), tests,
                                      status="graded" if data else "not_submitted",
                                      file_hash=str(len(data))))
    return SubmissionResult(submission.student, tuple(results))


def _book(path: Path) -> tuple[list, list]:
    with Gradebook.open(path, create=False) as book:
        rows = [{k: v for k, v in row.items() if k != "run_id"} for row in book.provenance()]
        return rows, book.all_results()


def test_three_shards_merged_give_the_gradebook_of_one_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from grader import runner
    monkeypatch.setattr(runner, "grade_submission", _fake_grade)
    chosen = ["--exercise", "race_counter", "--exercise", "transfer_deadlock"]
    assert cli.main(["grade", str(DEMO), *chosen, "--out", str(tmp_path / "one")]) == 0
    shards = []
    for i in (1, 2, 3):
        shards.append(tmp_path / f"shard{i}")
        assert cli.main(["grade", str(DEMO), *chosen, "--shard", f"{i}/3",
                         "--out", str(shards[-1])]) == 0
    capsys.readouterr()
    # Disjoint, and every student somewhere: two students each, every third in name order.
    per_shard = [{r["student"] for r in _book(s / "gradebook.sqlite")[0]} for s in shards]
    assert per_shard == [{"ada", "dana"}, {"boris", "emil"}, {"chen", "fatima"}]
    assert cli.main(["merge", str(tmp_path / "merged"), *map(str, shards)]) == 0
    assert "Merged 3 gradebooks" in capsys.readouterr().out
    assert _book(tmp_path / "merged" / "gradebook.sqlite") == _book(tmp_path / "one" / "gradebook.sqlite")
    assert ((tmp_path / "merged" / "grades.csv").read_text()
            == (tmp_path / "one" / "grades.csv").read_text())
    # Merging again changes nothing: the target's results are as recent as the shards'.
    assert cli.main(["merge", str(tmp_path / "merged"), *map(str, shards)]) == 0
    assert "0 results copied, 12 kept" in capsys.readouterr().out
    with Gradebook.open(tmp_path / "merged" / "gradebook.sqlite") as book:
        assert len({p["run_id"] for p in book.provenance()}) == 3  # one run per shard
    import sqlite3
    db = sqlite3.connect(tmp_path / "merged" / "gradebook.sqlite")
    assert db.execute("SELECT count(*) FROM runs").fetchone()[0] == 3
    db.close()


def test_merge_keeps_the_most_recently_stored_result(tmp_path: Path) -> None:
    from grader.scaleout import merge
    old = ExerciseResult("race_counter", "t", 10, 2, ())
    new = dataclasses.replace(old, points=10)
    key = Key("ann", "race_counter", "f", "e", "0")
    with Gradebook.open(tmp_path / "a.sqlite") as a:
        a.start_run(1, {})
        a.store(old, key)
    time.sleep(0.01)
    with Gradebook.open(tmp_path / "b.sqlite") as b:
        b.start_run(1, {})
        b.store(new, key)
    merge(tmp_path / "t.sqlite", [tmp_path / "b.sqlite", tmp_path / "a.sqlite"])
    with Gradebook.open(tmp_path / "t.sqlite") as t:
        assert [r.exercises[0].points for r in t.all_results()] == [10]
        assert len({p["run_id"] for p in t.provenance()}) == 1
    with pytest.raises(Exception, match="is the gradebook merged into"):
        merge(tmp_path / "t.sqlite", [tmp_path / "t.sqlite"])


# ---------------------------------------------------------------- job scripts

def _directives(script: str) -> list[str]:
    """The lines of a job script that say what is asked of the batch system and the worker,
    with this machine's python and the scheduler's address taken out."""
    script = script.replace(sys.executable, "PYTHON")
    lines = []
    for line in script.splitlines():
        words = [("SCHEDULER" if w.startswith("tcp://") else w) for w in line.split()]
        if words:
            lines.append(" ".join(words))
    return lines


@needs_dask
def test_the_slurm_job_script_asks_for_a_whole_node_and_a_worker_of_n_cores() -> None:
    pytest.importorskip("dask_jobqueue", reason="dask-jobqueue is not installed")
    cluster = gd.jobqueue_cluster(gd.ClusterSpec("slurm", cores=16, nodes=4, walltime="02:00:00",
                                                 queue="short", exclusive=True))
    try:
        lines = _directives(cluster.job_script())
    finally:
        cluster.close()
    assert [l for l in lines if l.startswith("#SBATCH")] == [
        "#SBATCH -J grader-worker", "#SBATCH -p short", "#SBATCH -n 1",
        "#SBATCH --cpus-per-task=16", "#SBATCH --mem=32G", "#SBATCH -t 02:00:00",
        "#SBATCH --exclusive"]
    assert lines[-1].startswith("PYTHON -m distributed.cli.dask_worker SCHEDULER")
    assert "--nthreads 16" in lines[-1] and lines[-1].endswith("--resources cores=16")


@needs_dask
def test_the_htcondor_job_script_asks_for_a_whole_machine_and_a_worker_of_n_cores() -> None:
    pytest.importorskip("dask_jobqueue", reason="dask-jobqueue is not installed")
    cluster = gd.jobqueue_cluster(gd.ClusterSpec("htcondor", cores=8, walltime="01:30:00",
                                                 exclusive=True))
    try:
        lines = _directives(cluster.job_script())
    finally:
        cluster.close()
    assert "MY.DaskWorkerCores = 8" in lines and "RequestCpus = MY.DaskWorkerCores" in lines
    # HTCondor's spelling of --exclusive, and of the walltime.
    assert "+RequiresWholeMachine = True" in lines and "+MaxRuntime = 5400" in lines
    arguments = next(l for l in lines if l.startswith("Arguments"))
    assert "--nthreads 8" in arguments and "--resources cores=8'\"" in arguments


# ---------------------------------------------------------------- stand-in jobs

def _jobs(exercises: list[str], timing: set[str] = frozenset(),
          students: tuple[str, ...] = ("ada", "boris", "chen", "dana")) -> list[Job]:
    catalog = load_catalog(EXERCISES, lenient=True)
    chosen = [dataclasses.replace(catalog.get(e), timing=e in timing) for e in exercises]
    from grader.submissions import discover
    found = [s for s in discover(DEMO, catalog) if s.student in students]
    return plan(found, chosen, None).todo


def _sleeper(payload: "gd.Payload") -> "gd.Answer":
    """A stand-in job: sleeps, and says when (its worker's clock), where, and with which
    resources Dask started it."""
    from distributed import get_worker
    from distributed.worker import thread_state
    asked = get_worker().state.tasks[thread_state.key].resource_restrictions
    started = time.time()
    time.sleep(0.6 if payload.timing else 0.3)
    said = {"asked": asked, "span": [started, time.time()], "worker": get_worker().address}
    return gd.Answer(ExerciseResult(payload.exercise, "", 1, 1, (), message=json.dumps(said)))


@needs_dask
def test_no_job_runs_beside_a_timing_job_on_its_worker() -> None:
    todo = _jobs(["race_counter", "transfer_deadlock", "parallel_histogram"],
                 timing={"parallel_histogram"})
    done: list[Done] = []
    gd.run(todo, gd.ClusterSpec("local", cores=2), catalog=EXERCISES, on_done=done.append,
           grade=_sleeper)
    assert sorted(str(d.job.key) for d in done) == sorted(str(j.key) for j in todo)
    said = [(d.job.exercise.timing, json.loads(d.result.message)) for d in done]
    # Every job asked for cores: 1 for correctness, the whole worker's 2 for timing.
    assert all(s["asked"] == {"cores": 2 if timing else 1} for timing, s in said)
    timing = [s for t, s in said if t]
    others = [s for t, s in said if not t]
    assert len(timing) == 4 and len(others) == 8
    for job in timing:
        (start, end), worker = job["span"], job["worker"]
        beside = [s for _, s in said if s is not job and s["worker"] == worker
                  and s["span"][0] < end and start < s["span"][1]]
        assert not beside, f"ran beside a timing job: {beside}"
    # The check can fail: correctness jobs do share the worker, 2 at a time.
    assert any(a["span"][0] < b["span"][1] and b["span"][0] < a["span"][1]
               for a in others for b in others if a is not b)
    # Correctness before timing, as the local plan orders them.
    assert max(s["span"][1] for s in others) <= min(s["span"][0] for s in timing)


def _kills_its_worker(payload: "gd.Payload") -> "gd.Answer":
    if payload.student == "boris" and payload.exercise == "race_counter":
        os.kill(os.getpid(), signal.SIGKILL)
    return gd.Answer(ExerciseResult(payload.exercise, "", 10, 10, (
        model.TestOutcome("t", "t", 10, 10, "passed"),)))


@needs_dask
def test_a_job_that_keeps_killing_workers_is_a_grader_failure_regraded_next_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(gd, "grade_payload", _kills_its_worker)
    monkeypatch.setattr(gd, "ALLOWED_FAILURES", 1)
    # Two jobs at a time, and the worker holds the others queued: Dask counts each death
    # against all of them. Run again alone, only boris's job dies again.
    out = tmp_path / "out"
    code = cli.main(["grade", str(DEMO), "--exercise", "race_counter", "--cluster", "local:2",
                     "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "internal error grading boris: KilledWorker" in err
    with Gradebook.open(out / "gradebook.sqlite") as book:
        rows = {r["student"]: r for r in book.provenance()}
        assert len(rows) == 6
        assert rows["boris"]["status"] == "error" and rows["boris"]["final"] == 0
        assert all(r["final"] == 1 for s, r in rows.items() if s != "boris")


# ---------------------------------------------------------------- real grading

def _outcomes(out: Path) -> dict[tuple[str, str], tuple]:
    with Gradebook.open(out / "gradebook.sqlite", create=False) as book:
        return {(s.student, e.exercise): (e.points, e.status, tuple(t.verdict for t in e.tests))
                for s in book.all_results() for e in s.exercises}


@needs_dask
def test_the_demo_class_on_a_local_cluster_gets_the_local_batchs_grades(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    chosen = ["--exercise", "race_counter", "--exercise", "transfer_deadlock"]
    assert cli.main(["grade", str(DEMO), *chosen, "--jobs", "2", "--out", str(tmp_path / "batch")]) == 0
    assert cli.main(["grade", str(DEMO), *chosen, "--cluster", "local:2",
                     "--out", str(tmp_path / "dask")]) == 0
    capsys.readouterr()
    local, dask = _outcomes(tmp_path / "batch"), _outcomes(tmp_path / "dask")
    assert len(local) == 12 and dask == local
    assert local[("boris", "race_counter")][0] < 10 and local[("ada", "race_counter")][0] == 10
    with Gradebook.open(tmp_path / "dask" / "gradebook.sqlite") as book:
        graded_on = {e.graded_on["cores"] for s in book.all_results() for e in s.exercises
                     if e.status != "not_submitted"}
    assert graded_on and all(isinstance(c, int) and c >= 1 for c in graded_on)
    assert "usable cores" in (tmp_path / "dask" / "ada" / "report.html").read_text()


def _marked() -> list[psutil.Process]:
    """Live processes started by a grading worker (they carry its mark)."""
    found = []
    for proc in psutil.process_iter():
        try:
            if gd.WORKER_MARK in proc.environ() and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except (psutil.Error, OSError):
            continue
    return found


@needs_dask
def test_a_worker_killed_mid_job_costs_no_result_and_leaves_no_test_process(tmp_path: Path) -> None:
    todo = _jobs(["race_counter"], students=("ada", "boris", "chen"))
    killed: list[int] = []

    def kill_a_worker_mid_job(client: object) -> None:
        def watch() -> None:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                for proc in _marked():
                    try:
                        worker = int(proc.environ()[gd.WORKER_MARK].partition(":")[0])
                        if proc.pid != worker and proc.is_running():  # its worker is mid-job
                            os.kill(worker, signal.SIGKILL)
                            killed.append(worker)
                            return
                    except (psutil.Error, ProcessLookupError, KeyError):
                        continue  # that test process ended meanwhile: the next one
                time.sleep(0.02)
        threading.Thread(target=watch, daemon=True).start()

    stored: list[Key] = []
    with Gradebook.open(tmp_path / "g.sqlite") as book:
        def store(done: Done) -> None:
            assert done.error is None, done.error
            book.store(done.result, done.job.key)
            stored.append(done.job.key)
        gd.run(todo, gd.ClusterSpec("local", cores=2), catalog=EXERCISES, on_done=store,
               on_client=kill_a_worker_mid_job)
        results = {s.student: s.exercises[0] for s in book.all_results()}
    assert killed, "no worker was killed: the test proved nothing"
    assert sorted(stored, key=str) == sorted((j.key for j in todo), key=str)  # each once
    assert {s: r.points for s, r in results.items()} == {
        "ada": 10, "boris": 2, "chen": 10}
    assert not psutil.pid_exists(killed[0]) or psutil.Process(killed[0]).status() == psutil.STATUS_ZOMBIE
    assert not _marked(), "test processes left running"


@needs_dask
def test_a_zip_class_grades_on_workers_that_cannot_see_the_drivers_files(tmp_path: Path) -> None:
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for student in ("ada", "boris"):
            for path in (DEMO / student).rglob("counter.py"):
                zf.write(path, f"class/{student}/{path.relative_to(DEMO / student)}")
    catalog = load_catalog(EXERCISES, lenient=True)
    from grader.submissions import discover
    found = discover(archive, catalog)
    todo = plan(found, [catalog.get("race_counter")], None).todo
    unpacked = {p.parent for s in found for p in s.files.values()}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    def hide_the_drivers_files(client) -> None:
        # Every job's bytes are read by now: the unpacked files go, the workers move.
        for path in [p for s in found for p in s.files.values()]:
            path.unlink()
        client.run(os.chdir, str(elsewhere))

    done: list[Done] = []
    gd.run(todo, gd.ClusterSpec("local", cores=2), catalog=EXERCISES, on_done=done.append,
           on_client=hide_the_drivers_files)
    assert not any(p.exists() for s in found for p in s.files.values()) and unpacked
    points = {d.job.submission.student: d.result.points for d in done}
    assert points == {"ada": 10, "boris": 2}
    replay = next(t.details["replay"] for d in done for t in d.result.tests
                  if "replay" in t.details)
    assert "<boris's folder>" in replay  # the driver's name for it, not the worker's folder


@needs_dask
def test_a_worker_with_other_exercises_answers_with_a_non_final_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gd, "_mark_this_worker", lambda: None)  # in this process: no mark
    todo = _jobs(["race_counter"], students=("ada",))
    job = todo[0]
    stale = dataclasses.replace(job, key=dataclasses.replace(job.key, exercise_hash="0" * 16))
    old = dataclasses.replace(job, key=dataclasses.replace(job.key, grader_version="0.0.1"))
    for changed, why in ((stale, "at version"), (old, "runs grader")):
        answer = gd.grade_payload(gd.payload_for(changed, EXERCISES))
        assert answer.result is None and why in answer.problem
        result = gd.not_graded(job.exercise, answer.problem, answer.host, answer.cores)
        from grader.gradebook import is_final
        assert result.status == "error" and not is_final(result) and result.points == 0
        assert all(t.verdict == "not_judged" for t in result.tests)


def _stored(book: Path) -> int:
    import sqlite3
    try:
        db = sqlite3.connect(f"file:{book}?mode=ro", uri=True, timeout=5)
        try:
            return db.execute("SELECT count(*) FROM results").fetchone()[0]
        finally:
            db.close()
    except sqlite3.OperationalError:  # not created yet
        return 0


@needs_dask
def test_sigterm_cancels_the_jobs_and_stops_every_test_process(tmp_path: Path) -> None:
    out = tmp_path / "out"
    command = [sys.executable, "-m", "grader", "grade", str(DEMO), "--exercise", "race_counter",
               "--exercise", "transfer_deadlock", "--cluster", "local:2", "--out", str(out)]
    proc = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 180
        while _stored(out / "gradebook.sqlite") < 1 and proc.poll() is None \
                and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, "the run ended before it could be stopped"
        descendants = psutil.Process(proc.pid).children(recursive=True)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "grader: interrupted: every finished result is kept" in err and "Traceback" not in err
    kept = _stored(out / "gradebook.sqlite")
    assert 1 <= kept < 12
    assert len([p for p in out.iterdir() if (p / "results.json").is_file()]) >= 1
    time.sleep(0.5)
    alive = [p for p in descendants if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not alive, f"processes left running after SIGTERM: {alive}"
    assert not _marked(), "test processes left running after SIGTERM"


@needs_dask
def test_workers_started_by_hand_are_joined_and_declare_what_a_timing_job_asks(
        tmp_path: Path) -> None:
    dask_cli = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    address = tmp_path / "scheduler.json"
    scheduler = subprocess.Popen([*dask_cli, "--scheduler-file", str(address), "--port", "0",
                                  "--dashboard-address", ":0"], cwd=tmp_path, env=HERE_ON_PATH,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers = []
    try:
        deadline = time.monotonic() + 60
        while not address.is_file() and time.monotonic() < deadline:
            time.sleep(0.1)
        # As the sbatch script in docs/cluster.md starts them, on 2 cores.
        workers.append(subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file",
             str(address), "--nthreads", "2", "--resources", "cores=2"], cwd=tmp_path,
            env=HERE_ON_PATH, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        todo = _jobs(["race_counter", "parallel_histogram"], timing={"parallel_histogram"},
                     students=("ada", "boris"))
        done: list[Done] = []
        gd.run(todo, gd.ClusterSpec("scheduler-file", scheduler_file=str(address)),
               catalog=EXERCISES, on_done=done.append, grade=_sleeper)
        assert all(d.error is None for d in done), [(d.job.key, repr(d.error.__cause__), str(d.error)[-300:]) for d in done if d.error]
        asked = {(d.job.submission.student, d.job.exercise.id):
                 json.loads(d.result.message)["asked"] for d in done}
        assert asked == {("ada", "race_counter"): {"cores": 1},
                         ("boris", "race_counter"): {"cores": 1},
                         ("ada", "parallel_histogram"): {"cores": 2},
                         ("boris", "parallel_histogram"): {"cores": 2}}
    finally:
        for proc in (*workers, scheduler):
            proc.terminate()
        for proc in (*workers, scheduler):
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


class _FakeClient:
    def __init__(self, *resources: dict) -> None:
        self.resources = resources

    def wait_for_workers(self, n: int, timeout: float) -> None:
        pass

    def scheduler_info(self) -> dict:
        return {"workers": {f"w{i}": {"resources": r} for i, r in enumerate(self.resources)}}


@needs_dask
def test_workers_by_hand_must_all_declare_the_same_cores() -> None:
    assert gd._workers_cores(_FakeClient({"cores": 16}, {"cores": 16})) == 16
    with pytest.raises(gd.ClusterError, match="without --resources cores=N"):
        gd._workers_cores(_FakeClient({"cores": 16}, {}))
    with pytest.raises(gd.ClusterError, match=r"different cores \(\[8, 16\]\)"):
        gd._workers_cores(_FakeClient({"cores": 16}, {"cores": 8}))


@needs_dask
def test_a_long_lived_worker_grades_with_the_exercise_as_it_is_now(tmp_path: Path) -> None:
    import shutil
    root = tmp_path / "exercises"
    shutil.copytree(EXERCISES / "race_counter", root / "race_counter")
    catalog = load_catalog(root, solutions_root=tmp_path / "none")
    from grader.submissions import discover
    ada = [s for s in discover(DEMO, catalog) if s.student == "ada"]
    job = plan(ada, [catalog.get("race_counter")], None).todo[0]
    first = gd._own_exercise(gd.payload_for(job, root), "here")[0]
    yaml = root / "race_counter" / "exercise.yaml"
    yaml.write_text(yaml.read_text().replace('title: "', 'title: "Renamed ', 1))
    edited = load_catalog(root, solutions_root=tmp_path / "none")
    job = plan(ada, [edited.get("race_counter")], None).todo[0]
    again, problem = gd._own_exercise(gd.payload_for(job, root), "here")
    assert problem == "" and again.title.startswith("Renamed ") and first.title != again.title


def _environment(payload: "gd.Payload") -> "gd.Answer":
    """A stand-in job that reports what a test process started by this worker would see."""
    gd._mark_this_worker()
    seen = {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    return gd.Answer(ExerciseResult(payload.exercise, "", 1, 1, (), message=json.dumps(seen)))


@needs_dask
def test_test_processes_see_the_machines_environment_not_the_nannys(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # A mark inherited from the driver (it may itself run in a worker) is not the worker's.
    monkeypatch.setenv(gd.WORKER_MARK, gd._identity(os.getpid()))
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv("MKL_NUM_THREADS", raising=False)
    done: list[Done] = []
    gd.run(_jobs(["race_counter"], students=("ada",)), gd.ClusterSpec("local", cores=1),
           catalog=EXERCISES, on_done=done.append, grade=_environment)
    assert json.loads(done[0].result.message) == {"OMP_NUM_THREADS": None, "MKL_NUM_THREADS": None}


@needs_dask
def test_an_embedded_cluster_whose_worker_never_comes_back_gets_a_new_one(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gd, "NO_WORKER_SECONDS", 2.0)

    def lose_the_worker_for_good(client) -> None:
        # What a nanny that fails to restart its worker leaves: no worker, nobody coming.
        nanny = next(iter(client.cluster.workers.values()))
        client.sync(nanny.close)

    done: list[Done] = []
    todo = _jobs(["race_counter"], students=("ada", "boris"))
    gd.run(todo, gd.ClusterSpec("local", cores=2), catalog=EXERCISES, on_done=done.append,
           grade=_sleeper, on_client=lose_the_worker_for_good)
    assert sorted(str(d.job.key) for d in done) == sorted(str(j.key) for j in todo)
    assert all(d.error is None for d in done)
