"""How long does a class of hostile submissions take to grade?

Grades every case of tests/hostile/cases/ (one student each, on race_counter with a 3 s
test limit) plus a student with a crashing counter.py beside a correct transfer.py, 4 at
a time, through grade_exercise, and prints the wall time, the sandbox mode, and the
slowest students: each hang should cost about its limit, never more.

    python bench/run.py hostile
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.hostile.classroom import TEST_LIMIT, grade_class  # noqa: E402


def run() -> None:
    result = grade_class()
    print(f"hostile class: {len(result.results)} students + 1 mixed, graded in {result.elapsed:.1f} s "
          f"({result.mode} mode, 4 at a time, test limit {TEST_LIMIT:g} s)")
    slowest = sorted(result.results.items(), key=lambda kv: kv[1].duration, reverse=True)[:5]
    for case, exercise in slowest:
        print(f"  {case:28} {exercise.duration:6.1f} s  {exercise.points:g}/{exercise.max_points:g}")
    print(f"  leftover processes: {len(result.leftovers)}, repository files changed: {len(result.changed)}")


if __name__ == "__main__":
    run()
