"""The course site: the exercises' statements as a few static HTML pages.

`index.html` lists the exercises with their topics and points; `<id>.html` is one
statement, rendered from the exercise's README.md with markdown-it-py (CommonMark plus
tables). Every page is one self-contained file with its CSS inline, so the site can be
uploaded anywhere or opened from disk. Only statements go in: never hidden tests or
solutions.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from markdown_it import MarkdownIt

from grader.catalog import Catalog, Exercise
from grader.report.text import number

TEMPLATES = Path(__file__).resolve().parent / "site_templates"
COURSE = "Multithreading and multiprocessing in Python"


@dataclass(frozen=True)
class Site:
    index: Path
    pages: tuple[Path, ...]
    warnings: tuple[str, ...] = ()


def markdown() -> MarkdownIt:
    # Raw HTML in a statement is shown as text, not run: a statement is prose and code.
    return MarkdownIt("commonmark", {"html": False}).enable("table")


def render_statement(text: str) -> str:
    return markdown().render(text)


def build_site(catalog: Catalog, out: Path) -> Site:
    """Write OUT/index.html and one OUT/<id>.html per exercise."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    common = {"css": (TEMPLATES / "site.css").read_text(encoding="utf-8"), "course": COURSE}
    entries, pages, warnings = [], [], []
    for exercise in catalog.exercises:
        entry = _entry(exercise)
        if not entry["statement"]:
            warnings.append(f"{exercise.id}: no README.md; its page says the statement is not written yet")
        page = out / entry["page"]
        page.write_text(env.get_template("exercise.html").render(e=entry, **common), encoding="utf-8")
        pages.append(page)
        entries.append(entry)
    total = number(sum(e.max_points for e in catalog.exercises))
    index = out / "index.html"
    index.write_text(env.get_template("index.html").render(exercises=entries, total=total, **common),
                     encoding="utf-8")
    return Site(index, tuple(pages), tuple(warnings))


def _entry(exercise: Exercise) -> dict[str, Any]:
    readme = exercise.path / "README.md"
    statement = render_statement(readme.read_text(encoding="utf-8")) if readme.is_file() else ""
    return {"id": exercise.id, "title": exercise.title, "topics": list(exercise.topics),
            "points": number(exercise.max_points), "files": list(exercise.files),
            "page": f"{exercise.id}.html", "statement": statement}
