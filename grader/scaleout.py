"""Grading past one machine, the parts that need no Dask: the command-line options of
`grade` (cluster and shard), `grade --shard I/N` and `grader merge`.

Plan B, for sites where compute nodes may not connect back to the driver: each task of a
batch array grades one shard of the class into a gradebook of its own
(`grade CLASS --shard I/N --out shards/I`), and `grader merge OUT shards/*` copies every
shard's results into one gradebook, the only writer, and writes the reports. A shard is
every N-th student in name order, so the shards are disjoint and each student's results
stay together; a stopped shard resumes from its own gradebook like any run.
"""
from __future__ import annotations

import argparse
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from grader.distributed import ClusterSpec
    from grader.submissions import Submission

CLUSTER_OPTIONS = ("cluster", "slurm", "htcondor", "scheduler_file")


class ShardError(Exception):
    """A --shard that cannot be: one line, exit 2."""


# ---------------------------------------------------------------- options of grade

def add_grade_options(grade: argparse.ArgumentParser) -> None:
    """`grade`'s options for grading past this machine, in a group of their own."""
    group = grade.add_argument_group(
        "grading past this machine",
        "Dask workers grade the jobs (needs the extra: pip install 'concurrency-grader[cluster]'); "
        "this machine stays the only writer of the gradebook. See README: Grading a large course.")
    group.add_argument("--cluster", metavar="local[:N]",
                       help="an embedded Dask cluster on this machine, N cores (default: the "
                            "usable cores)")
    group.add_argument("--slurm", action="store_true",
                       help="submit Dask workers as Slurm jobs (dask-jobqueue), one per node")
    group.add_argument("--htcondor", action="store_true",
                       help="submit Dask workers as HTCondor jobs (dask-jobqueue), one per machine")
    group.add_argument("--scheduler-file", metavar="FILE",
                       help="join the Dask scheduler of FILE, with workers started by hand "
                            "(dask worker --scheduler-file FILE --nthreads N --resources cores=N)")
    group.add_argument("--nodes", type=int, default=1, metavar="N",
                       help="--slurm/--htcondor: batch jobs (nodes) to submit (default: 1)")
    group.add_argument("--cores", type=int, default=None, metavar="N",
                       help="cores of one node: correctness jobs at once per node, and what a "
                            "timing job reserves (required with --slurm/--htcondor)")
    group.add_argument("--walltime", default="01:00:00", metavar="HH:MM:SS",
                       help="--slurm/--htcondor: walltime of each worker job (default: 01:00:00)")
    group.add_argument("--queue", default=None, metavar="NAME",
                       help="--slurm: the partition; --htcondor: the job flavour")
    group.add_argument("--memory", default=None, metavar="SIZE",
                       help="--slurm/--htcondor: memory per node (default: 2GiB per core)")
    group.add_argument("--exclusive", action="store_true",
                       help="--slurm/--htcondor: whole nodes, shared with no other job "
                            "(recommended: timing tests measure the cores)")
    group.add_argument("--shard", metavar="I/N", default=None,
                       help="grade only shard I of N (every N-th student, I from 1), for a "
                            "batch array; join the shards' gradebooks with `grader merge`")


def wants_cluster(args: argparse.Namespace) -> bool:
    return any(getattr(args, name, None) for name in CLUSTER_OPTIONS)


def prepare(args: argparse.Namespace,
            submissions: Sequence["Submission"]) -> tuple["ClusterSpec | None", list["Submission"]]:
    """The cluster `grade` was asked to use (None: the local batch) and the submissions of
    its shard. Bad options, or a cluster option without the extra, are a UsageError."""
    from grader.workflow import UsageError
    try:
        if args.shard:
            submissions = select(submissions, args.shard)
    except ShardError as exc:
        raise UsageError(str(exc)) from None
    if not wants_cluster(args):
        return None, list(submissions)
    from grader import distributed  # only now: the module that needs Dask
    try:
        return distributed.spec_from_args(args), list(submissions)
    except distributed.ClusterError as exc:
        raise UsageError(str(exc)) from None


# ---------------------------------------------------------------- shards

def parse_shard(text: str) -> tuple[int, int]:
    index, slash, count = text.partition("/")
    if not slash or not index.isdigit() or not count.isdigit():
        raise ShardError(f"--shard {text}: expected I/N, e.g. 2/3 (shard 2 of 3)")
    i, n = int(index), int(count)
    if n < 1 or not 1 <= i <= n:
        raise ShardError(f"--shard {text}: I must be between 1 and N")
    return i, n


def select(submissions: Sequence["Submission"], text: str) -> list["Submission"]:
    """Shard I of N: the I-th, (I+N)-th... student in name order. Depends only on the
    class, so every task of an array computes the same split."""
    i, n = parse_shard(text)
    ordered = sorted(submissions, key=lambda s: s.student)
    return [s for k, s in enumerate(ordered) if k % n == i - 1]


# ---------------------------------------------------------------- merge

@dataclass(frozen=True)
class Merged:
    sources: int
    copied: int  # results written into the target
    kept: int  # results the target already had, as recent or more


def merge(target: Path, sources: Sequence[Path]) -> Merged:
    """Copy every result of SOURCES (gradebook files) into TARGET, the one writer. Per
    student and exercise the most recently stored result wins, which is what grading
    them in one gradebook would have kept; each source's runs come along, renumbered."""
    from grader.gradebook import Gradebook, GradebookError
    paths = []
    for source in sources:
        if source.resolve() == target.resolve():
            raise GradebookError(f"{source}: is the gradebook merged into; give the shards' gradebooks")
        with Gradebook.open(source, create=False):  # a clear error for anything else
            paths.append(source)
    with Gradebook.open(target):  # creates the file and its schema, checks its version
        pass
    copied = kept = 0
    db = sqlite3.connect(target, timeout=30.0, isolation_level=None)
    try:
        db.execute("PRAGMA synchronous=FULL")
        for path in paths:
            db.execute("ATTACH DATABASE ? AS shard", (str(path),))
            db.execute("BEGIN IMMEDIATE")
            try:
                runs = {}
                for run_id, started, finished, jobs, machine in db.execute(
                        "SELECT id, started, finished, jobs, machine FROM shard.runs "
                        "ORDER BY id").fetchall():
                    # A run merged before (the same shard merged again) is not copied twice.
                    known = db.execute("SELECT id FROM main.runs WHERE started = ? AND "
                                       "machine = ?", (started, machine)).fetchone()
                    if known is None:
                        known = (db.execute("INSERT INTO main.runs (started, finished, jobs, "
                                            "machine) VALUES (?, ?, ?, ?)",
                                            (started, finished, jobs, machine)).lastrowid,)
                    runs[run_id] = known[0]
                rows = db.execute(
                    "SELECT student, exercise, file_hash, exercise_hash, grader_version, final, "
                    "points, max_points, status, run_id, stored, result FROM shard.results").fetchall()
                for row in rows:
                    mine = db.execute("SELECT stored FROM main.results WHERE student = ? AND "
                                      "exercise = ?", row[:2]).fetchone()
                    if mine is not None and mine[0] >= row[10]:
                        kept += 1
                        continue
                    db.execute("INSERT OR REPLACE INTO main.results (student, exercise, "
                               "file_hash, exercise_hash, grader_version, final, points, "
                               "max_points, status, run_id, stored, result) VALUES "
                               "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                               (*row[:9], runs.get(row[9]), *row[10:]))
                    copied += 1
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            finally:
                db.execute("DETACH DATABASE shard")
    finally:
        db.close()
    return Merged(len(paths), copied, kept)


def _gradebook_of(text: str) -> Path:
    from grader.gradebook import FILENAME
    path = Path(text)
    return path / FILENAME if path.is_dir() else path


def cmd_merge(args: argparse.Namespace) -> int:
    from grader.gradebook import FILENAME, Gradebook
    from grader.report.publish import publish, shown, where_reports_are
    from grader.workflow import UsageError
    out = Path(args.out)
    target = Path(args.gradebook) if args.gradebook else out / FILENAME
    sources = [_gradebook_of(s) for s in args.sources]
    for source in sources:
        if not source.is_file():
            raise UsageError(f"{source}: no gradebook here (a shard's --out folder or "
                             f"its gradebook.sqlite)")
    done = merge(target, sources)
    with Gradebook.open(target, create=False) as book:
        results = publish(book, out)
    print(f"Merged {done.sources} gradebook{'s' if done.sources != 1 else ''} into "
          f"{shown(target)}: {done.copied} results copied, {done.kept} kept as they "
          f"were (as recent or more); {len(results)} students in all.")
    print(where_reports_are(out))
    return 0


def add_merge_command(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    merge_parser = commands.add_parser(
        "merge", help="merge the gradebooks of shards (grade --shard) into one, and report",
        description="Copy every result of the SOURCES (shards' --out folders or gradebook "
                    "files) into OUT's gradebook, the most recent result of each student and "
                    "exercise winning, then write OUT's reports.")
    merge_parser.add_argument("out", metavar="OUT", help="the reports folder to merge into")
    merge_parser.add_argument("sources", metavar="SOURCE", nargs="+",
                              help="a shard's --out folder or gradebook file")
    merge_parser.add_argument("--gradebook", metavar="FILE", default=None,
                              help="the gradebook merged into (default: OUT/gradebook.sqlite)")
    merge_parser.add_argument("--debug", action="store_true",
                              help="print tracebacks of internal errors (for grader developers)")
    merge_parser.set_defaults(func=cmd_merge)
