"""The similarity report through `grader grade`: a copy with renamed names is found, the
stub is discounted, a different solution is not paired, and the class page shows it."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

pytest.importorskip("copydetect")

from grader import cli  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SOLUTION = (REPO / "solutions" / "race_counter" / "counter.py").read_text()
STUB = (REPO / "exercises" / "race_counter" / "counter.py").read_text()
OTHER = '''import threading


class Counter:
    """A counter safe to share between threads."""

    def __init__(self, start: int = 0) -> None:
        self._value = start
        self._guard = threading.RLock()

    def increment(self, n: int = 1) -> None:
        self._guard.acquire()
        try:
            self._value = self._value + n
        finally:
            self._guard.release()

    @property
    def value(self) -> int:
        with self._guard:
            return self._value
'''


def test_a_renamed_copy_is_paired_and_shown(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    klass = tmp_path / "class"
    copied = re.sub(r"#.*", "", SOLUTION).replace("_lock", "_mutex")
    for student, text in (("ann", SOLUTION), ("bob", copied), ("cy", OTHER), ("dan", STUB),
                          ("eve", STUB)):
        (klass / student).mkdir(parents=True)
        (klass / student / "counter.py").write_text(text)
    out = tmp_path / "out"
    code = cli.main(["grade", str(klass), "--exercise", "race_counter", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    data = json.loads((out / "similarity.json").read_text())
    pairs = {(p["a"], p["b"]): p for p in data["pairs"]}
    assert set(pairs) == {("ann", "bob")}  # the two untouched stubs are not a pair
    assert pairs["ann", "bob"]["a_shared"] >= 0.9
    assert any("with self._mutex" in f["text"] or "with self._lock" in f["text"]
               for f in pairs["ann", "bob"]["fragments"])
    page = (out / "index.html").read_text()
    assert "Similar submissions" in page and "race_counter: 1 pair" in page
    # Rebuilt from the gradebook and the stored report alone.
    assert cli.main(["report", "--out", str(out)]) == 0
    assert "race_counter: 1 pair" in (out / "index.html").read_text()
    # Graded again with nothing changed: the files compared are the same, so is the report
    # (copydetect is not even imported); a changed file has everything compared again.
    from grader import similarity
    compare = similarity.compare

    def must_not_compare(*args: object, **kwargs: object) -> list:
        raise AssertionError("compared again with nothing changed")

    monkeypatch.setattr(similarity, "compare", must_not_compare)
    assert cli.main(["grade", str(klass), "--exercise", "race_counter", "--out", str(out)]) == 0
    assert json.loads((out / "similarity.json").read_text()) == data
    monkeypatch.setattr(similarity, "compare", compare)
    (klass / "eve" / "counter.py").write_text(SOLUTION)
    assert cli.main(["grade", str(klass), "--exercise", "race_counter", "--out", str(out)]) == 0
    pairs = {(p["a"], p["b"]) for p in json.loads((out / "similarity.json").read_text())["pairs"]}
    assert pairs == {("ann", "bob"), ("ann", "eve"), ("bob", "eve")}


def test_the_same_files_give_the_same_report_in_every_process(tmp_path: Path) -> None:
    """copydetect hashes with Python's salted hash(): the grader replaces it, so two runs
    (two hash seeds) pair, score and quote the same."""
    import subprocess
    import sys
    half = SOLUTION.split("    @property")[0] + OTHER.split("class Counter")[1].split("def increment")[1]
    for student, text in (("ann", SOLUTION), ("bob", half), ("cy", OTHER), ("dan", SOLUTION.replace("_lock", "_l"))):
        (tmp_path / student).mkdir()
        (tmp_path / student / "counter.py").write_text(text)
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from grader import similarity\n"
        "from grader.catalog import load_catalog\n"
        "from grader.submissions import Submission\n"
        "root = Path(sys.argv[1])\n"
        "subs = [Submission(p.name, {'counter.py': p / 'counter.py'}, p) for p in sorted(root.iterdir())]\n"
        "exercise = load_catalog(Path(sys.argv[2])).get('race_counter')\n"
        "pairs = similarity.compare(subs, exercise, threshold=0.0)\n"
        "print(json.dumps([[p.a, p.b, p.a_shared, p.b_shared, [list(f.a_lines) for f in p.fragments]] for p in pairs]))\n")
    import os
    outputs = set()
    for seed in ("1", "2", "3"):
        done = subprocess.run([sys.executable, "-c", script, str(tmp_path), str(REPO / "exercises")],
                              capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": seed},
                              timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        outputs.add(done.stdout)
    assert len(outputs) == 1, outputs
    assert json.loads(outputs.pop()), "some pair should share code"
