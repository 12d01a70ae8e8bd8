"""What `grader check` finds beyond a malformed exercise.yaml: declarations the hidden tests
do not back. A test named in exercise.yaml that no hidden file defines costs every student
its points as "not judged"; a hidden test the yaml does not name is run and ignored. The
fields other modules read (`late`, `feedback`, `params.parallelism`) are checked by them,
here, so a mistake shows at `grader check` rather than as every student's "error".
"""
from __future__ import annotations

import ast

from grader.catalog import Exercise


def defined_tests(exercise: Exercise) -> set[str]:
    """Test function names the hidden files define (functions, methods, or names bound
    at the top of a module, such as a test made by a helper), read without running them."""
    names: set[str] = set()
    for path in sorted(exercise.hidden_dir.rglob("*.py")):
        try:
            tree = ast.parse(path.read_bytes(), filename=str(path))
        except (SyntaxError, ValueError):
            continue  # the run says it cannot be collected; nothing is defined here
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names.update(t.id for t in targets if isinstance(t, ast.Name))
    return {n for n in names if n.startswith("test_")}


def problems(exercise: Exercise) -> list[str]:
    """One line per declared test no hidden file defines (each would cost every student),
    and a malformed late policy."""
    from grader.catalog import CatalogError
    from grader.late import policy
    from grader.feedback import visibility
    malformed = []
    for read in (policy, visibility):
        try:
            read(exercise)
        except CatalogError as exc:
            malformed.append(str(exc))
    malformed += parallelism_problems(exercise)
    defined = defined_tests(exercise)
    return malformed + [f"{exercise.id}: exercise.yaml declares {t.name} ({t.points:g} points) but no file "
            f"in {exercise.hidden_dir.name}/ defines it: every student would lose those points "
            f"as 'not judged'" for t in exercise.tests if t.name not in defined]


def parallelism_problems(exercise: Exercise) -> list[str]:
    """`params.parallelism`: the timing rule's thresholds (grader/timing/rule.py Thresholds)
    an exercise overrides. An unknown name or a value that is not a positive number of the
    threshold's kind would make every timing test of the exercise fail as an error."""
    value = exercise.params.get("parallelism")
    if value is None:
        return []
    def where(name: str = "") -> str:
        return f"{exercise.path / 'exercise.yaml'}: field 'params.parallelism{'.' if name else ''}{name}'"

    if not isinstance(value, dict):
        return [f"{where()}: expected a mapping of the timing rule's thresholds, got {value!r}"]
    from dataclasses import fields

    from grader.timing import Thresholds
    defaults = Thresholds()
    known = {f.name for f in fields(Thresholds)}
    found = []
    for name, given in value.items():
        if name not in known:
            found.append(f"{where(name)}: unknown threshold (known: {', '.join(sorted(known))})")
            continue
        kind = type(getattr(defaults, name))
        whole = kind is int
        if isinstance(given, bool) or not isinstance(given, (int,) if whole else (int, float)):
            found.append(f"{where(name)}: expected {'a whole number' if whole else 'a number'}, got {given!r}")
        elif given < 0 or (given == 0 and whole):
            found.append(f"{where(name)}: must be positive, got {given!r}")
    return found


def warnings(exercise: Exercise) -> list[str]:
    declared = {t.name for t in exercise.tests}
    return [f"{exercise.id}: the hidden test {name} is not in exercise.yaml, so it is run "
            f"but scores nothing" for name in sorted(defined_tests(exercise) - declared)]


__all__ = ["defined_tests", "parallelism_problems", "problems", "warnings"]
