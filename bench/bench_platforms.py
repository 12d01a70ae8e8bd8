"""How long do the platform paths take on a class? Reading a Canvas download and comparing
every pair of students for similarity, on N students (one exercise, race_counter).

Canvas: a zip of N students' flat files (half of them resubmitted as counter-1.py), read
by `discover` (unpacking, grouping by user id, the latest file of each). Similarity: the
N(N-1)/2 pairs of copydetect on the students' files, the stub discounted; the students
are the reference solution with renamed names (so every pair is a copy and must be
reported) and untouched stubs (which must never be). Median of BENCH_ROUNDS runs.

    python bench/run.py platforms
    BENCH_STUDENTS=200 BENCH_ROUNDS=5 python bench/run.py platforms
"""
from __future__ import annotations

import os
import statistics
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run() -> None:
    from grader import similarity
    from grader.catalog import load_catalog
    from grader.submissions import Submission, discover

    students = int(os.environ.get("BENCH_STUDENTS", "100"))
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    catalog = load_catalog(ROOT / "exercises")
    exercise = catalog.get("race_counter")
    solution = (ROOT / "solutions" / "race_counter" / "counter.py").read_text()
    stub = (ROOT / "exercises" / "race_counter" / "counter.py").read_text()
    with tempfile.TemporaryDirectory() as scratch:
        archive = Path(scratch) / "submissions.zip"
        with zipfile.ZipFile(archive, "w") as zf:
            for n in range(students):
                zf.writestr(f"student{n}_{1000 + n}_{5000 + n}_counter.py", stub)
                if n % 2:
                    zf.writestr(f"student{n}_{1000 + n}_{5000 + n}_counter-1.py", solution)
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            found = discover(archive, catalog)
            times.append(time.perf_counter() - start)
        assert len(found) == students
        print(f"canvas download of {students} students read in {statistics.median(times):.2f} s "
              f"(median of {rounds}; min {min(times):.2f}, max {max(times):.2f})")

        copies, stubs = [], []
        for n in range(students):
            path = Path(scratch) / f"s{n}" / "counter.py"
            path.parent.mkdir()
            copy = n % 2 == 0
            path.write_text(solution.replace("_lock", f"_guard{n}") if copy else stub)
            (copies if copy else stubs).append(Submission(f"s{n}", {"counter.py": path}, path.parent))
        subs = copies + stubs
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            pairs = similarity.compare(subs, exercise)
            times.append(time.perf_counter() - start)
        expected = len(copies) * (len(copies) - 1) // 2
        found_pairs = {(p.a, p.b) for p in pairs}
        stub_names = {s.student for s in stubs}
        false = sum(1 for a, b in found_pairs if a in stub_names or b in stub_names)
        print(f"similarity of {students} students ({students * (students - 1) // 2} pairs): "
              f"{statistics.median(times):.2f} s (median of {rounds}); copies paired: "
              f"{len(found_pairs) - false} of {expected}; pairs with an untouched stub: {false}")
