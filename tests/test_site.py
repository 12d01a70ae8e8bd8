"""The course site: statements rendered from README.md, self-contained pages."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

from grader.catalog import load_catalog
from grader.site import build_site, render_statement

REPO = Path(__file__).resolve().parent.parent


def test_index_and_pages(tmp_path: Path) -> None:
    root = tmp_path / "course" / "exercises"
    for exercise in ("race_counter", "transfer_deadlock"):
        shutil.copytree(REPO / "exercises" / exercise, root / exercise)
    (root / "transfer_deadlock" / "README.md").unlink()  # a statement not written yet
    site = build_site(load_catalog(root), tmp_path / "site")

    index = site.index.read_text()
    assert 'href="race_counter.html"' in index and 'href="transfer_deadlock.html"' in index
    assert "Fix the race: a trigger counter shared by readout threads" in index
    assert ">race conditions<" in index and "10 points" in index
    assert site.warnings == ("transfer_deadlock: no README.md; its page says the statement is not written yet",)

    page = (tmp_path / "site" / "race_counter.html").read_text()
    assert "<h1>Fix the race" in page
    assert "<table>" in page and "<td>4</td>" in page  # the points table, as a table
    assert "<pre><code class=\"language-python\">" in page
    assert "not written yet" in (tmp_path / "site" / "transfer_deadlock.html").read_text()

    for html in (index, page):  # self-contained: inline CSS, nothing fetched, nothing run
        assert "<style>" in html
        assert not re.search(r"<link|<script|src=", html)


def test_raw_html_in_a_statement_is_shown_not_run() -> None:
    html = render_statement("Hello <script>alert(1)</script>\n")
    assert "<script>" not in html and "&lt;script&gt;" in html
