"""A class of twelve exercises: the class page keeps the students table whole at 1280 px.

Checked in headless Chromium: the page is measured after layout (the table's width against
its card's, and the document's against the window), and a screenshot is kept under
tests/artifacts/ for a person to look at.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from grader import cli
from grader.gradebook import Gradebook, Key

from test_summary import twelve

ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

MEASURE = """
<script>
window.addEventListener("load", function () {
  var table = document.querySelector("table.students"), card = table.closest(".card");
  var t = table.getBoundingClientRect(), c = card.getBoundingClientRect();
  document.title = "MEASURED " + JSON.stringify({
    tableRight: t.right, cardRight: c.right, tableWidth: table.scrollWidth,
    cardInner: card.clientWidth, pageWidth: document.documentElement.scrollWidth,
    window: window.innerWidth, columns: table.rows[0].cells.length});
});
</script>
"""


def chromium(*argv: str, profile: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", "--window-size=1280,2400", *argv],
        check=True, capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make browser)")
def test_twelve_exercises_keep_the_students_table_whole_at_1280px(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    with Gradebook.open(out / "gradebook.sqlite") as book:
        for r in twelve(students=10):
            for ex in r.exercises:
                book.store(ex, Key(r.student, ex.exercise, "-", "-", "-"))
    assert cli.main(["report", "--out", str(out)]) == 0
    page = out / "index.html"
    html = page.read_text(encoding="utf-8")
    assert html.count('<tr class="group">') == 12  # pass rates grouped per exercise
    probe = out / "probe.html"
    probe.write_text(html.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    dom = chromium("--dump-dom", probe.as_uri(), profile=tmp_path / "p1").stdout
    found = re.search(r"MEASURED (\{.*?\})</title>", dom)
    assert found, "the measuring script did not run"
    m = json.loads(found.group(1).replace("&quot;", '"'))
    assert m["columns"] == 14  # student, total, twelve exercises
    assert m["tableWidth"] <= m["cardInner"] and m["tableRight"] <= m["cardRight"], m
    assert m["pageWidth"] <= m["window"] == 1280, m
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "class_twelve_exercises.png"
    shot.unlink(missing_ok=True)
    chromium(f"--screenshot={shot}", page.as_uri(), profile=tmp_path / "p2")
    assert shot.is_file() and shot.stat().st_size > 30_000
