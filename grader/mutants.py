"""Tests of the tests: grade the generated mutants of every reference solution.

    python -m grader.mutants [--exercise ID ...] [--jobs N] [--timing] [--report FILE.md]
                             [--check]

For each exercise, grader/mutate.py makes the mutants of solutions/<id>/<file>; each is
graded through the real path (`grade_exercise`, the sandboxed child and the hidden tests),
several at a time. A mutant is *killed* when it loses points, *survives* with full marks.
A survivor that is the same program in another form is written down, with why, in
tests/mutants/<id>/equivalent.yaml:

    "swap_acquisitions:transfer:1":
      change: "`with first.lock, second.lock:` takes its locks in the other order (line 35)"
      why: "every transfer still takes the two locks in one global order (highest first)"

The `change` is checked against the generated mutant, so an entry that no longer matches
(the solution was edited) is reported as stale instead of excusing another mutant.
Exercises marked `timing: true` measure wall-clock speedups and are left out unless
--timing, then graded one at a time after the others. --check exits with 1 if a mutant
survives that is not declared equivalent, or an equivalent entry is stale.
The report (--report) lists every mutant with every message a student would read.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from grader.catalog import Exercise, load_catalog
from grader.model import ExerciseResult
from grader.mutate import Mutant, mutants
from grader.runner import grade_exercise
from grader.submissions import Submission

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Graded:
    mutant: Mutant
    result: ExerciseResult | None = None
    error: str = ""  # the mutant could not be graded (a grader failure, not a kill)

    @property
    def killed(self) -> bool:
        return self.result is not None and self.result.status == "graded" \
            and self.result.points < self.result.max_points

    @property
    def survived(self) -> bool:
        return self.result is not None and self.result.status == "graded" \
            and self.result.points >= self.result.max_points

    @property
    def failed_tests(self) -> list[str]:
        return [t.name for t in self.result.tests if not t.passed] if self.result else []


@dataclass
class ExerciseFigures:
    exercise: Exercise
    graded: list[Graded] = field(default_factory=list)
    # The stub and the hand-written mutants, graded for the report only (--hand-written):
    # their verdicts are pinned by tests/test_mutants.py, not counted in the kill rate.
    others: list[Graded] = field(default_factory=list)
    equivalent: dict[str, dict[str, str]] = field(default_factory=dict)  # id -> change, why
    stale: list[str] = field(default_factory=list)  # equivalent entries that match no survivor

    @property
    def counted(self) -> list[Graded]:
        """Mutants that count: every graded one except those declared equivalent."""
        return [g for g in self.graded if g.mutant.id not in self.equivalent]

    @property
    def killed(self) -> int:
        return sum(1 for g in self.counted if g.killed)

    @property
    def survivors(self) -> list[Graded]:
        return [g for g in self.counted if g.survived]

    @property
    def errors(self) -> list[Graded]:
        return [g for g in self.graded if not g.killed and not g.survived]


def read_equivalents(folder: Path) -> dict[str, dict[str, str]]:
    source = folder / "equivalent.yaml"
    if not source.is_file():
        return {}
    data = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict) or not all(
            isinstance(v, dict) and isinstance(v.get("change"), str) and isinstance(v.get("why"), str)
            for v in data.values()):
        raise ValueError(f"{source}: expected a mapping of mutant id to {{change: text, why: text}}")
    return {str(k): v for k, v in data.items()}


def generate(exercise: Exercise, solutions: Path) -> list[Mutant]:
    """The mutants of the exercise's one student file (none if it has no solution)."""
    found = []
    for name in exercise.files:
        solution = solutions / exercise.id / name
        if solution.is_file():
            found += mutants(solution.read_text(encoding="utf-8"))
    return found


def hand_written(exercise: Exercise, mutants_root: Path) -> list[tuple[Mutant, Path]]:
    """The untouched stub and the mutants declared in tests/mutants/<id>/mutants.yaml."""
    found = [(Mutant("stub", "stub", "the untouched stub", 0, ""), exercise.path)]
    source = mutants_root / exercise.id / "mutants.yaml"
    declared = yaml.safe_load(source.read_text(encoding="utf-8")) if source.is_file() else {}
    for name, spec in (declared or {}).items():
        folder = mutants_root / exercise.id / str(name)
        if folder.is_dir() and isinstance(spec, dict):
            found.append((Mutant(f"hand-written:{name}", "hand-written", str(spec.get("description", "")), 0, ""),
                          folder))
    return found


def grade_all(exercises: list[Exercise], solutions: Path, mutants_root: Path, jobs: int,
              progress: Any = None, include_hand_written: bool = False) -> list[ExerciseFigures]:
    figures = [ExerciseFigures(e, equivalent=read_equivalents(mutants_root / e.id)) for e in exercises]
    with tempfile.TemporaryDirectory(prefix="mutants-") as scratch:
        work: list[tuple[ExerciseFigures, Graded, Submission]] = []
        for fig in figures:
            (name,) = fig.exercise.files[:1] or ("",)
            for n, mutant in enumerate(generate(fig.exercise, solutions)):
                folder = Path(scratch) / fig.exercise.id / f"{n:03d}"
                folder.mkdir(parents=True)
                (folder / name).write_text(mutant.source, encoding="utf-8")
                graded = Graded(mutant)
                fig.graded.append(graded)
                work.append((fig, graded, Submission(f"mutant {mutant.id}", {name: folder / name}, folder)))
            if include_hand_written:
                for mutant, folder in hand_written(fig.exercise, mutants_root):
                    graded = Graded(mutant)
                    fig.others.append(graded)
                    files = {f: folder / f for f in fig.exercise.files if (folder / f).is_file()}
                    work.append((fig, graded, Submission(mutant.id, files, folder)))

        def run(item: tuple[ExerciseFigures, Graded, Submission]) -> None:
            fig, graded, submission = item
            try:
                graded.result = grade_exercise(submission, fig.exercise)
                if graded.result.status != "graded":
                    graded.error = f"{graded.result.status}: {graded.result.message}"
            except Exception as exc:  # a grader failure: shown, never counted as a kill
                graded.error = f"{type(exc).__name__}: {exc}"
            if progress:
                progress(fig, graded)

        parallel = [w for w in work if not w[0].exercise.timing]
        alone = [w for w in work if w[0].exercise.timing]
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            list(pool.map(run, parallel))
        for item in alone:  # speedups are measured on an otherwise idle machine
            run(item)
    for fig in figures:
        changes = {g.mutant.id: g.mutant.description for g in fig.graded}
        survivors = {g.mutant.id for g in fig.graded if g.survived}
        fig.stale = [i for i, e in fig.equivalent.items()
                     if changes.get(i) != e["change"] or i not in survivors]
    return figures


def summary_lines(figures: list[ExerciseFigures]) -> list[str]:
    lines = [f"{'exercise':<22}{'killed':>8}{'/':^3}{'counted':<9}{'equivalent':>11}  survivors"]
    total_killed = total = 0
    for fig in figures:
        counted = [g for g in fig.counted if g.killed or g.survived]
        total_killed += fig.killed
        total += len(counted)
        lines.append(f"{fig.exercise.id:<22}{fig.killed:>8}{'/':^3}{len(counted):<9}"
                     f"{len(fig.equivalent) - len(fig.stale):>11}  "
                     + (", ".join(g.mutant.id for g in fig.survivors) or "-"))
        for g in fig.errors:
            lines.append(f"{'':<22}not graded: {g.mutant.id}: {g.error}")
        for i in fig.stale:
            lines.append(f"{'':<22}stale equivalent.yaml entry: {i} (no surviving mutant with that change)")
    share = f"{100 * total_killed / total:.0f}%" if total else "-"
    lines.append(f"{'all':<22}{total_killed:>8}{'/':^3}{total:<9}  killed: {share}")
    return lines


def report_markdown(figures: list[ExerciseFigures]) -> str:
    """Every mutant, what changed, and every message its grading gives a student."""
    out = ["# Mutants of the reference solutions", "",
           "Generated by grader/mutate.py, graded by the hidden tests (python -m grader.mutants).", ""]
    out += ["```", *summary_lines(figures), "```", ""]
    for fig in figures:
        out += [f"## {fig.exercise.id}", ""]
        for g in fig.graded + fig.others:
            state = ("equivalent: " + fig.equivalent[g.mutant.id]["why"] if g.mutant.id in fig.equivalent
                     else f"not graded ({g.error})" if g.error
                     else g.mutant.operator if g in fig.others
                     else "killed" if g.killed else "SURVIVED")
            score = f" {g.result.points:g}/{g.result.max_points:g}" if g.result else ""
            out += [f"### `{g.mutant.id}`: {state}{score}", "", f"Change: {g.mutant.description}", ""]
            for t in g.result.tests if g.result else ():
                message = " ".join(t.message.split())
                out.append(f"- {t.name}: **{t.verdict}** ({t.points:g}/{t.max_points:g})"
                           + (f": {message}" if message and not t.passed else ""))
            out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.mutants", description=__doc__.split("\n\n")[0])
    parser.add_argument("--exercises", type=Path, default=ROOT / "exercises", metavar="DIR")
    parser.add_argument("--solutions", type=Path, default=ROOT / "solutions", metavar="DIR")
    parser.add_argument("--mutants", type=Path, default=ROOT / "tests" / "mutants", metavar="DIR",
                        help="where each exercise's equivalent.yaml lives")
    parser.add_argument("--exercise", action="append", metavar="ID", help="only this exercise (repeat)")
    parser.add_argument("--jobs", "-j", type=int, default=2, help="mutants graded at once (default 2)")
    parser.add_argument("--timing", action="store_true",
                        help="include the exercises that measure speedups (graded one at a time)")
    parser.add_argument("--report", type=Path, metavar="FILE.md", help="write every mutant's messages here")
    parser.add_argument("--list", action="store_true", help="only list the mutants, grade nothing")
    parser.add_argument("--hand-written", action="store_true",
                        help="also grade the stub and the hand-written mutants, for the report "
                             "(not counted in the kill rate)")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if a mutant survives that equivalent.yaml does not declare")
    args = parser.parse_args(argv)
    try:
        catalog = load_catalog(args.exercises, args.solutions)
    except Exception as exc:
        print(f"cannot read the exercises: {exc}", file=sys.stderr)
        return 2
    chosen = [e for e in catalog.exercises if (e.id in args.exercise if args.exercise else
                                                (args.timing or not e.timing))]
    unknown = set(args.exercise or ()) - {e.id for e in catalog.exercises}
    if unknown:
        print(f"no such exercise: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    if args.list:
        for e in chosen:
            for m in generate(e, args.solutions):
                print(f"{e.id}  {m.id}  {m.description}")
        return 0

    def progress(fig: ExerciseFigures, g: Graded) -> None:
        state = (f"{g.result.points:g}/{g.result.max_points:g}" if g in fig.others and g.result
                 else "killed" if g.killed else "SURVIVED" if g.survived else "not graded")
        print(f"  {fig.exercise.id} {g.mutant.id}: {state}", file=sys.stderr, flush=True)

    try:
        figures = grade_all(chosen, args.solutions, args.mutants, args.jobs, progress,
                            include_hand_written=args.hand_written)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    print("\n".join(summary_lines(figures)))
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(report_markdown(figures), encoding="utf-8")
        print(f"report: {args.report}")
    if args.check and any(f.survivors or f.stale or f.errors for f in figures):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
