"""What a grading run says while it runs and when it ends, when nobody watches a terminal.

On a terminal, the CLI shows a rich progress bar. In a log (CI, `make grade > log`, a
cron job) a bar prints nothing, so a 10-minute run would look dead: `LogProgress` prints
one line per finished job instead, with the student, the exercise, the score, how long
the job took and the ETA of the run. `regraded` says, at the end, why jobs the gradebook
already knew were graded again (a key changed, or a verdict was not judged).
"""
from __future__ import annotations

import time
from collections import Counter
from typing import Callable, Sequence, TextIO

from grader.model import ExerciseResult
from grader.report.text import number


class LogProgress:
    """One line per finished job: `[ 3/18] alice · race_counter 10/10 in 2.1 s, eta 41 s`.

    WEIGHTS are the expected seconds of each job in plan order (batch.expected_seconds);
    the ETA scales what is left of them by how fast the run went so far."""

    def __init__(self, weights: Sequence[float], stream: TextIO,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.weights = list(weights)
        self.stream = stream
        self.clock = clock
        self.started = clock()
        self.done = 0

    def finished(self, student: str, exercise: str, result: ExerciseResult | None,
                 seconds: float | None = None) -> str:
        self.done += 1
        total = len(self.weights)
        width = len(str(total))
        score = (f"{number(result.points)}/{number(result.max_points)}" if result is not None
                 else "error")
        if result is not None and result.status == "error":
            score += " (grader error)"
        took = seconds if seconds is not None else (result.duration if result else 0.0)
        line = (f"[{self.done:>{width}}/{total}] {student} · {exercise} {score} "
                f"in {took:.1f} s, eta {self.eta():.0f} s")
        print(line, file=self.stream, flush=True)
        return line

    def eta(self) -> float:
        """Seconds left: the expected seconds of the jobs left, at the pace seen so far."""
        expected_done = sum(self.weights[: self.done])
        left = sum(self.weights[self.done:])
        if not left:
            return 0.0
        elapsed = self.clock() - self.started
        pace = elapsed / expected_done if expected_done > 0 and elapsed > 0 else 1.0
        return left * pace


def regraded(why: dict[str, str], cached: int) -> str:
    """One sentence on what this run graded and why; 'nothing changed' when it graded none."""
    if not why:
        return f"Nothing changed: all {cached} results taken from the gradebook."
    counts = Counter(why.values())
    parts = [f"{n} {reason}" for reason, n in counts.most_common()]
    return f"Graded {len(why)} job{'s' if len(why) != 1 else ''}: {'; '.join(parts)}."
