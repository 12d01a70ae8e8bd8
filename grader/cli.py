"""The command line: `python -m grader grade | replay | check`.

The commands follow an instructor's day: check the catalogue, grade a class, replay one
student's failing schedule to see it happen. Bad input (a wrong path, an unknown exercise,
a malformed exercise.yaml) exits 2 with one line on stderr, never a traceback; once
grading has run the exit status is 0, whatever the scores, so scripts can tell "the grader
could not run" from "students lost points".
"""
from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

from rich.console import Console

import grader
from grader.catalog import Catalog, CatalogError, Exercise, load_catalog
from grader.model import ExerciseResult
from grader.report.publish import publish, shown, where_reports_are
from grader.workflow import UsageError, grade_class

if TYPE_CHECKING:
    from grader.roster import Person
    from grader.submissions import Submission

# The repository that holds this package: exercises/ and solutions/ sit beside grader/.
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_EXERCISES = REPO_ROOT / "exercises"
DEFAULT_OUT = Path("reports")


def _input_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean 'bad input', including the submissions module's own."""
    from grader.gradebook import GradebookError
    from grader.roster import RosterError
    from grader.submissions import SubmissionError
    return (UsageError, CatalogError, GradebookError, RosterError, SubmissionError)


# ---------------------------------------------------------------- shared steps

def _catalog(args: argparse.Namespace, *, lenient: bool = False) -> Catalog:
    """The catalogue. Grading is lenient: an exercise folder with a problem is set aside
    with a warning, so it does not stop the grading of the others; `check` is strict."""
    catalog = load_catalog(Path(args.exercises), lenient=lenient)
    for _, problem in catalog.broken:
        print(f"grader: warning: {problem} (that exercise is not graded)", file=sys.stderr)
    return catalog


def _resolve(text: str, catalog: Catalog) -> Path:
    """The path to grade. 'solutions' and 'exercises' also name the catalogue's own
    folders, so the reference solutions and the stubs can be graded from anywhere."""
    path = Path(text)
    if path.exists():
        return path
    if text in ("solutions", "exercises"):
        own = catalog.root if text == "exercises" else catalog.root.parent / "solutions"
        if own.is_dir():
            return own
    raise UsageError(f"{text}: no such file or folder")


def _discover(path: Path, catalog: Catalog, layout: str | None = None) -> list["Submission"]:
    from grader.submissions import discover
    found = discover(path, catalog, layout)
    if not found:
        names = ", ".join(sorted(catalog.by_file()))
        raise UsageError(f"{path}: nothing here looks like a submission (no {names})")
    return found


def _selected(catalog: Catalog, ids: Sequence[str] | None) -> list[Exercise]:
    if not ids:
        return list(catalog.exercises)
    return [catalog.get(i) for i in dict.fromkeys(ids)]  # raises CatalogError if unknown


@contextmanager
def _progress(weights: Sequence[float]) -> Iterator[Callable[[Any, ExerciseResult], None]]:
    """A progress bar on stderr while grading; when stderr is not a terminal, one line per
    finished job instead (grader/progress.py), so that a log shows the run is alive.
    Counts jobs (student x exercise); the bar and its ETA advance by each job's expected
    seconds (WEIGHTS, in the order of the plan), so the slow timing jobs that end a run do
    not make the ETA lie. Yields `finished(what)`, called once per finished job."""
    from rich.progress import (BarColumn, Progress, SpinnerColumn, TextColumn,
                               TimeElapsedColumn, TimeRemainingColumn)
    console = Console(stderr=True)
    with Progress(SpinnerColumn(), TextColumn("grading"), BarColumn(),
                  TextColumn("{task.fields[done]}/{task.fields[jobs]} jobs"),
                  TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
                  TextColumn("{task.description}"), console=console, transient=True,
                  disable=not console.is_terminal) as bar:
        total = sum(weights) or 1.0
        task = bar.add_task("", total=total, done=0, jobs=len(weights))
        done = 0
        from grader.progress import LogProgress
        log = None if console.is_terminal else LogProgress(weights, sys.stderr)

        def step(job: Any, result: ExerciseResult) -> None:
            nonlocal done
            if log is not None:
                log.finished(job.submission.student, job.exercise.id, result)
            what = job.name
            # Jobs finish about in plan order (the gate keeps timing jobs last), so the
            # first DONE weights are a fair measure of the work done.
            done += 1
            bar.update(task, description=f"last: {what}", done=done,
                       completed=total if done >= len(weights) else sum(weights[:done]))
            sys.stderr.flush()

        yield step
        bar.update(task, completed=total)


def _gradebook_path(args: argparse.Namespace) -> Path:
    from grader.gradebook import FILENAME
    return Path(args.gradebook) if args.gradebook else Path(args.out) / FILENAME


# ---------------------------------------------------------------- grade

def cmd_grade(args: argparse.Namespace) -> int:
    from grader import batch
    from grader.report.summary import print_summary

    catalog = _catalog(args, lenient=True)
    exercises = _selected(catalog, args.exercise)
    submissions = _discover(_resolve(args.path, catalog), catalog, args.layout)
    submissions, people = _with_roster(submissions, args.roster)
    from grader import feedback, late
    rules = {e.id: late.policy(e) for e in exercises}  # a malformed policy: one line, exit 2
    released_when = feedback.policies(exercises)
    if args.jobs is not None and args.jobs < 1:
        raise UsageError(f"--jobs {args.jobs}: give at least 1")
    jobs = args.jobs or batch.default_jobs()
    from grader import scaleout  # --shard, and Dask workers instead of local threads
    cluster, submissions = scaleout.prepare(args, submissions)
    jobs = cluster.cores * cluster.nodes if cluster is not None and cluster.cores else jobs
    from grader.isolation import isolation_warning
    if (warning := isolation_warning()) is not None:  # every class run says it, first
        print(f"grader: {warning}", file=sys.stderr)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    def warn(message: str, exc: BaseException | None) -> None:
        print(f"grader: {message}", file=sys.stderr)
        if exc is not None and args.debug:
            traceback.print_exception(exc)

    book_path = _gradebook_path(args)
    try:
        run = grade_class(submissions, people, exercises, book_path=book_path, out=out, jobs=jobs,
                          cluster=cluster, catalog_root=catalog.root, force=args.force,
                          late_rules=rules, released_when=released_when, progress=_progress, warn=warn)
    except KeyboardInterrupt:
        print(f"grader: interrupted: every finished result is kept in "
              f"{shown(book_path)} and its report written under {shown(out)}; "
              f"run the same command again to grade the rest", file=sys.stderr)
        raise
    if run.broken is not None:
        # Zeros for everyone would be the setup's fault: say so, and fail the command.
        print(f"grader: error: the setup is broken, not the submissions: {run.broken}",
              file=sys.stderr)
        return 1
    graded = {s.student for s in submissions}
    print_summary([r for r in run.results if r.student in graded])
    s = "s" if len(submissions) != 1 else ""
    print(f"\nGraded {len(submissions)} submission{s} on {len(exercises)} exercise"
          f"{'s' if len(exercises) != 1 else ''} in {run.seconds:.1f} s: "
          f"{len(run.work.todo)} of {run.work.total} jobs graded ({run.jobs} at a time), "
          f"{len(run.work.cached)} unchanged taken from the gradebook.")
    from grader.progress import regraded
    print(regraded(run.work.why, len(run.work.cached)))
    print(where_reports_are(out))
    return 0


# ---------------------------------------------------------------- platforms and rosters

def _with_roster(submissions: list["Submission"], roster_path: str | None
                 ) -> tuple[list["Submission"], dict[str, "Person"]]:
    """The submissions, plus an empty one for each roster student who handed in nothing
    (graded "not submitted"); and who each student is. Submissions no roster line claims
    are graded and reported on stderr."""
    from grader.roster import Person, match, read_roster
    found = [(s.student, getattr(s, "person", None)) for s in submissions]
    if roster_path is None:
        return submissions, {student: person or Person(student) for student, person in found}
    from grader.layouts import student_key
    from grader.submissions import Submission
    matched = match(found, read_roster(Path(roster_path)))
    if matched.unknown:
        print(f"grader: warning: {len(matched.unknown)} submission"
              f"{'s' if len(matched.unknown) != 1 else ''} not on the roster (graded, and "
              f"marked so in the exports): {', '.join(matched.unknown)}", file=sys.stderr)
    people = dict(matched.people)
    missing = []
    for person in matched.missing:
        student = student_key(person.name, person.id)
        missing.append(Submission(student, {}, Path(roster_path).resolve().parent, person=person))
        people[student] = person
    if missing:
        print(f"grader: {len(missing)} student{'s' if len(missing) != 1 else ''} on the roster "
              f"handed in nothing (graded \"not submitted\"): "
              f"{', '.join(s.student for s in missing)}", file=sys.stderr)
    return [*submissions, *missing], people


def _add_platform_options(grade: argparse.ArgumentParser) -> None:
    from grader.layouts import LAYOUTS
    grade.add_argument("--layout", choices=LAYOUTS, default="auto",
                       help="how PATH is laid out: a platform's export (canvas, moodle, "
                            "gradescope, github) or the grader's own folder per student; "
                            "default: detected from the names")
    grade.add_argument("--roster", metavar="CSV", default=None,
                       help="the class list (columns id, name, email, section; a Canvas "
                            "gradebook export works): students missing from PATH are graded "
                            "'not submitted', submissions not on it are reported")


def cmd_gradescope(args: argparse.Namespace) -> int:
    from grader.gradescope import AutograderError, build_autograder, parse_visibility

    catalog = _catalog(args)  # strict: an autograder with a broken exercise helps nobody
    exercises = _selected(catalog, args.exercise)
    try:
        from grader.feedback import visibility as chosen
        defaults = {e.id: chosen(e) for e in exercises}  # exercise.yaml's feedback
        visibility = parse_visibility(args.visibility, [e.id for e in exercises], defaults)
        path = build_autograder(catalog, exercises, Path(args.out), visibility)
    except AutograderError as exc:
        raise UsageError(str(exc)) from None
    deferred = sorted(f"{i} ({v})" for i, v in visibility.items() if v != "visible")
    print(f"Gradescope autograder for {len(exercises)} exercise"
          f"{'s' if len(exercises) != 1 else ''} ({', '.join(e.id for e in exercises)}): "
          f"{shown(path)}; no solution in it. Upload it as the assignment's autograder.")
    if deferred:
        print(f"Test names and messages wait for: {', '.join(deferred)}")
    return 0


def cmd_override(args: argparse.Namespace) -> int:
    from grader.gradebook import Gradebook
    from grader.overrides import OverrideError, clear_override, set_override
    from grader.report.text import number

    if args.clear == (args.points is not None):
        raise UsageError("give --points N --why TEXT to set an override, or --clear to remove it")
    out = Path(args.out)
    with Gradebook.open(_gradebook_path(args), create=False) as book:
        try:
            if args.clear:
                student = clear_override(book, args.student, args.exercise)
                said = f"Override cleared: {student} · {args.exercise} is back to the computed score."
            else:
                student, computed, top = set_override(book, args.student, args.exercise,
                                                      args.points, args.why or "")
                said = (f"Override: {student} · {args.exercise}: {number(args.points)}/{number(top)} "
                        f"(computed {number(computed)}), because: {args.why.strip()}")
        except OverrideError as exc:
            raise UsageError(str(exc)) from None
        publish(book, out)  # every report and export shows it at once
    print(said)
    print(where_reports_are(out))
    return 0


def _add_platform_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]",
                           common: argparse.ArgumentParser) -> None:
    from grader.gradescope import VISIBILITIES
    gradescope = _command(
        commands, cmd_gradescope, "gradescope", parents=[common], help="build the autograder zip Gradescope runs",
        description="Write the zip to upload as a Gradescope programming assignment's "
                    "autograder: setup.sh, run_autograder, the grader, and the exercises with "
                    "their hidden tests (never a solution). run_autograder grades "
                    "/autograder/submission and writes /autograder/results/results.json.")
    gradescope.add_argument("out", metavar="OUT.zip")
    gradescope.add_argument("--exercise", metavar="ID", action="append",
                            help="only this exercise (repeat for several; default: all)")
    gradescope.add_argument("--visibility", metavar="[ID=]WHEN", action="append",
                            help=f"when students see the hidden tests' names and messages, for "
                                 f"every exercise or for ID: {', '.join(VISIBILITIES)} "
                                 f"(default: visible; the score is always shown)")

    override = _command(
        commands, cmd_override, "override", help="set the points of one student on one exercise, with the reason",
        description="Set an instructor's points for STUDENT (the name in the reports, or the "
                    "platform id or email) on EXERCISE. Stored in the gradebook beside the "
                    "computed score, shown in every report and export, kept through regrades "
                    "until --clear. The reports are rebuilt at once.")
    override.add_argument("student", metavar="STUDENT")
    override.add_argument("exercise", metavar="EXERCISE")
    override.add_argument("--points", type=float, metavar="N")
    override.add_argument("--why", metavar="TEXT", help="the reason, shown to the student")
    override.add_argument("--clear", action="store_true", help="remove the override")
    _add_output_options(override)
    override.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)


# ---------------------------------------------------------------- report

def cmd_report(args: argparse.Namespace) -> int:
    from grader.gradebook import Gradebook
    out = Path(args.out)
    with Gradebook.open(_gradebook_path(args), create=False) as book:
        if args.published is not None:  # what `feedback: after_published` waits for
            book.set_meta("published", args.published)
        results = publish(book, out)
    print(f"Rebuilt the reports of {len(results)} student{'s' if len(results) != 1 else ''} "
          f"from {shown(_gradebook_path(args))}.")
    print(where_reports_are(out))
    return 0


# ---------------------------------------------------------------- replay

def cmd_replay(args: argparse.Namespace) -> int:
    from grader.report.text import number, outcome_text, verdict_words

    catalog = _catalog(args, lenient=True)
    exercise = catalog.get(args.exercise_id)
    if exercise.test(args.test) is None:
        known = ", ".join(t.name for t in exercise.tests)
        raise UsageError(f"exercise '{exercise.id}' has no hidden test '{args.test}' "
                         f"(known: {known})")
    found = _discover(_resolve(args.submission, catalog), catalog)
    if len(found) != 1:
        names = ", ".join(s.student for s in found[:5]) + (", ..." if len(found) > 5 else "")
        raise UsageError(f"{args.submission}: holds {len(found)} submissions ({names}); "
                         f"give the folder of one student")
    submission = found[0]
    from grader import runner
    result = runner.grade_exercise(submission, exercise, replay_seed=args.seed)
    outcome = next((t for t in result.tests if t.name == args.test), None)
    print(f"{submission.student} · {exercise.id} · {args.test} · schedule seed {args.seed}")
    if outcome is None:
        # The exercise did not get as far as this test (missing file, import error...).
        print(f"{verdict_words(result.status)}: {result.message or 'the test did not run'}")
        return 0
    print(f"{outcome.title}: {verdict_words(outcome.verdict)}, "
          f"{number(outcome.points)}/{number(outcome.max_points)} points\n")
    print(outcome_text(outcome))
    return 0


# ---------------------------------------------------------------- check

def cmd_check(args: argparse.Namespace) -> int:
    from grader.report.text import number

    catalog = _catalog(args)
    rows = [(e.id, e.title, f"{number(e.max_points)} points",
             f"{len(e.tests)} test{'s' if len(e.tests) != 1 else ''}",
             "" if e.solution else "no reference solution") for e in catalog.exercises]
    widths = [max(len(r[c]) for r in rows) for c in range(4)]
    for row in rows:
        print("  ".join(cell.ljust(w) if c < 2 else cell.rjust(w)
                        for c, (cell, w) in enumerate(zip(row, widths))) + (
                  f"  ({row[4]})" if row[4] else ""))
    total = sum(e.max_points for e in catalog.exercises)
    print(f"{len(rows)} exercise{'s' if len(rows) != 1 else ''}, {number(total)} points in all, "
          f"from {shown(catalog.root)}")
    from grader import lint
    found = [p for e in catalog.exercises for p in lint.problems(e)]
    for warning in (w for e in catalog.exercises for w in lint.warnings(e)):
        print(f"grader: warning: {warning}", file=sys.stderr)
    for problem in found:
        print(f"grader: error: {problem}", file=sys.stderr)
    return 1 if found else 0


# ---------------------------------------------------------------- the students' side

def cmd_bundle(args: argparse.Namespace) -> int:
    from grader.bundle import BundleError, build_bundle

    try:
        bundle = build_bundle(_catalog(args), Path(args.out))
    except BundleError as exc:
        raise UsageError(str(exc)) from None
    for warning in bundle.warnings:
        print(f"grader: warning: {warning}", file=sys.stderr)
    print(f"Student bundle of {len(bundle.exercises)} exercises ({', '.join(bundle.exercises)}): "
          f"{shown(bundle.folder)}/ and {shown(bundle.archive)}; checked: no solution, no hidden test.")
    return 0


def cmd_selfcheck(args: argparse.Namespace) -> int:
    from grader.selfcheck import SelfCheckError, check

    try:
        return check(Path(args.bundle), args.exercise, verbose=args.verbose)
    except SelfCheckError as exc:
        raise UsageError(str(exc)) from None


def cmd_site(args: argparse.Namespace) -> int:
    from grader.site import build_site

    site = build_site(_catalog(args), Path(args.out))
    for warning in site.warnings:
        print(f"grader: warning: {warning}", file=sys.stderr)
    print(f"Course site: {shown(site.index)} and {len(site.pages)} statement pages")
    return 0


def _add_student_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]",
                          common: argparse.ArgumentParser) -> None:
    bundle = _command(
        commands, cmd_bundle, "bundle", parents=[common], help="build the student bundle: a folder and a .zip",
        description="Build what students download: statements, stubs, given files, public "
                    "tests, a README and Makefile (make check, make submit) and the grader's "
                    "runtime; never solutions or hidden tests (checked before zipping).")
    bundle.add_argument("out", metavar="OUT", nargs="?", default="dist/student-bundle",
                        help="the bundle's folder; the .zip goes beside it (default: dist/student-bundle)")

    selfcheck = _command(
        commands, cmd_selfcheck, "selfcheck", help="run a bundle's public tests the way grading runs hidden tests",
        description="Run the public tests of a student bundle against the student's files, "
                    "isolated and under the concurrency engine exactly like hidden tests. "
                    "Exit status 1 when a test fails. Not a grade.")
    selfcheck.add_argument("bundle", metavar="BUNDLE", nargs="?", default=".",
                           help="the student bundle's folder (default: here)")
    selfcheck.add_argument("--exercise", metavar="ID", action="append",
                           help="check only this exercise (repeat for several)")
    selfcheck.add_argument("--verbose", "-v", action="store_true",
                           help="also show the test process's own output")
    selfcheck.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    site = _command(
        commands, cmd_site, "site", parents=[common], help="render the statements as a static course site",
        description="Render every exercise's README.md into OUT/<id>.html and an index "
                    "with topics and points; self-contained pages.")
    site.add_argument("out", metavar="OUT", nargs="?", default="dist/site",
                      help="the site's folder (default: dist/site)")


# ---------------------------------------------------------------- the parser

def _command(commands: "argparse._SubParsersAction[argparse.ArgumentParser]",
             func: Callable[[argparse.Namespace], int], name: str,
             **options: Any) -> argparse.ArgumentParser:
    """The subcommand NAME of `grader`, run by FUNC (argparse's add_parser OPTIONS)."""
    command = commands.add_parser(name, **options)
    command.set_defaults(func=func)
    return command

def _add_output_options(command: argparse.ArgumentParser) -> None:
    """Where the reports go and the gradebook they are built from: one spelling for every
    command that writes them."""
    command.add_argument("--out", metavar="DIR", default=str(DEFAULT_OUT),
                         help="where reports go (default: reports/)")
    command.add_argument("--gradebook", metavar="FILE", default=None,
                         help="the gradebook (default: gradebook.sqlite in the --out folder)")

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grader", description="Grade exercises in Python multithreading and multiprocessing.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {grader.__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--exercises", metavar="DIR", default=str(DEFAULT_EXERCISES),
                        help="the exercise catalogue (default: exercises/ beside the grader)")
    common.add_argument("--debug", action="store_true",
                        help="print tracebacks of internal errors (for grader developers)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    grade = _command(
        commands, cmd_grade, "grade", parents=[common], help="grade one submission, a class folder or a .zip",
        description="Grade one submission, a class folder, or a .zip of either. "
                    "'solutions' and 'exercises' grade the reference solutions and the stubs.")
    grade.add_argument("path", metavar="PATH")
    _add_output_options(grade)
    grade.add_argument("--exercise", metavar="ID", action="append",
                       help="grade only this exercise (repeat for several)")
    grade.add_argument("--jobs", "-j", metavar="N", type=int, default=None,
                       help="jobs at once (default: one more than the usable cores); the "
                            "tests that measure time always run alone")
    grade.add_argument("--force", action="store_true",
                       help="regrade everything, even results the gradebook has for "
                            "unchanged files, exercises and grader")
    _add_platform_options(grade)
    from grader import scaleout
    scaleout.add_grade_options(grade)
    scaleout.add_merge_command(commands)

    report = _command(
        commands, cmd_report, "report", help="rebuild every report and export from the gradebook, without grading",
        description="Rebuild index.html, each student's report.html and results.json, "
                    "grades.csv and class.json from the gradebook, without regrading.")
    _add_output_options(report)
    report.add_argument("--debug", action="store_true",
                        help="print tracebacks of internal errors (for grader developers)")
    report.add_argument("--published", action="store_true", default=None,
                        help="the grades are published: release the hidden tests' names and "
                             "messages of exercises with 'feedback: after_published' (kept "
                             "in the gradebook for later rebuilds)")
    report.add_argument("--unpublished", dest="published", action="store_false",
                        help="take that back")

    replay = _command(
        commands, cmd_replay, "replay", parents=[common], help="re-run one hidden test under one schedule seed",
        description="Re-run one hidden test on one submission with the schedule seed a "
                    "report gave, and print everything it found.")
    replay.add_argument("submission", metavar="SUBMISSION", help="one student's folder or file")
    replay.add_argument("exercise_id", metavar="EXERCISE")
    replay.add_argument("test", metavar="TEST", help="the hidden test's name, test_...")
    replay.add_argument("--seed", type=int, required=True, metavar="N")

    _command(
        commands, cmd_check, "check", parents=[common], help="validate the exercise catalogue and list it")
    _add_student_commands(commands, common)
    _add_platform_commands(commands, common)
    return parser


class _OneLineFormatter(logging.Formatter):
    """Grader warnings as one line each: the tracebacks they carry are for --debug."""

    def format(self, record: logging.LogRecord) -> str:
        return f"grader: {record.levelname.lower()}: {record.getMessage()}"


def _setup_logging(debug: bool) -> None:
    root = logging.getLogger()
    if root.handlers:  # embedded (tests, another program): leave their logging alone
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("grader: %(levelname)s: %(name)s: %(message)s")
                         if debug else _OneLineFormatter())
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.WARNING)


def _terminate(signum: int, frame: object) -> None:
    # SIGTERM (a scheduler, `kill`) takes the same path as Ctrl-C: the running tests are
    # killed, finished results kept, and the grader exits with a message.
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _setup_logging(args.debug)
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return args.func(args)
    except _input_errors() as exc:
        print(f"grader: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("grader: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a grader bug: still one line unless asked for more
        if args.debug:
            raise
        print(f"grader: internal error: {type(exc).__name__}: {exc} "
              f"(run again with --debug for the traceback)", file=sys.stderr)
        return 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
