"""`make bench` entry for the parallel_histogram reliability bench (bench/parallelism.py).

Grades every variant BENCH_RUNS times (3 by default: `make bench` should finish in a
reasonable time), quiet; the full figures of issue 4 come from running the script itself:

    python bench/parallelism.py --rounds 20
    python bench/parallelism.py --rounds 20 --busy
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import parallelism  # noqa: E402


def run() -> None:
    parallelism.main(["--rounds", os.environ.get("BENCH_RUNS", "3")])
