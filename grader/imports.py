"""The grader's own import graph, read from its source with `ast` (nothing is imported).

An import inside a function counts like one at the top of the module (it runs when the
function does); an import under ``if TYPE_CHECKING:`` does not (it never runs). Used by
bundle.py to ship a student only the modules the self-check can reach, and by
tests/test_architecture.py to keep grader/ free of import cycles.
"""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
# Template folders hold no module of the grader's.
NOT_CODE = ("bundle_files", "site_templates")


def module_name(path: Path, package: Path = PACKAGE) -> str:
    """grader/concurrency/runtime.py -> "grader.concurrency.runtime" (a package: its name)."""
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports_of(tree: ast.AST, package: str, known: set[str]) -> set[str]:
    """The modules of KNOWN that TREE (a module of PACKAGE) imports when it runs, at any
    depth: `from grader import catalog` names grader.catalog, `from grader.x import f`
    names grader.x."""
    found: set[str] = set()

    def target(name: str) -> None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        if name:
            found.add(name)

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for branch in node.orelse:
                visit(branch)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                target(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                prefix = ".".join(parts[: len(parts) - node.level + 1])
                module = f"{prefix}.{node.module}" if node.module else prefix
            else:
                module = node.module or ""
            for alias in node.names:
                full = f"{module}.{alias.name}"
                target(full if full in known else module)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def module_files(package: Path = PACKAGE) -> dict[str, Path]:
    """Every module of the package, by name."""
    return {module_name(p, package): p for p in sorted(package.rglob("*.py"))
            if not any(part in NOT_CODE for part in p.relative_to(package).parts)}


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """Module -> the modules of the package it imports (a package's own parents aside:
    importing grader.x.y runs grader.x's __init__, which is no dependency of y's)."""
    files = module_files(package)
    known = set(files)
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        where = name if path.name == "__init__.py" else name.rpartition(".")[0]
        deps = imports_of(ast.parse(path.read_text(encoding="utf-8")), where, known)
        graph[name] = {d for d in deps if d != name and not name.startswith(d + ".")}
    return graph


def closure(graph: dict[str, set[str]], entries: set[str]) -> set[str]:
    """ENTRIES and every module importing them imports, with the packages they sit in."""
    seen: set[str] = set()
    todo = list(entries)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        parts = name.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]
        todo += graph.get(name, ())
    return seen
