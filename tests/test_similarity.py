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
