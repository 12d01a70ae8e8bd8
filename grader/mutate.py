"""Concurrency mutants: the wrong answers a student writes, made from a correct one.

`mutants(source)` parses a reference solution with `ast` and returns one `Mutant` per
place where an operator applies, each the whole file with that single change:

    drop_lock            a `with lock:` removed (its body kept), or one lock of `with a, b:`
    move_out             the first or last statement of a `with lock:` moved out of it
    while_to_if          `while not ready: cond.wait()` made an `if`
    notify_all_to_notify `cond.notify_all()` made `cond.notify()`
    swap_acquisitions    two locks taken in the other order (nested `with`, `with a, b:`,
                         or two `acquire()` in a row)
    drop_join            a `t.join()` statement removed
    drop_release         in an `except` or `finally`, the call that releases a lock or wakes
                         the waiters (`release`, `notify(_all)`, `set`, `set_exception`) removed
    lock_in_method       a lock that __init__ (or the module) makes once, made anew inside a
                         method or function at every call
    retry                an error propagated with `raise` (or by `future.result()`) retried by
                         calling the same method again
    call_twice           a callback the code was given (`load`, `fetch`, `process`, `eat`)
                         called twice where it was called once
    drop_acquire         an explicit `x.acquire()` statement removed
    drop_timeout         the timeout of an `acquire`, `wait`, `join`, `get` or `result` dropped
    one_worker           an executor or pool given one worker (the serial answer)
    weaker_primitive     BoundedSemaphore made Semaphore, RLock made Lock
    swallow_error        a `raise SomeError(...)` made `pass` (not a check of the arguments
                         at the top of a function, which no interface here specifies)

A mutant's id, `<operator>:<function>:<n>` (the n-th place of that operator in that
function), stays the same when unrelated lines of the solution move. Nothing here runs
student code: grading the mutants is grader/mutants.py's business.
"""
from __future__ import annotations

import ast
import copy
from dataclasses import dataclass
from typing import Any, Callable, Iterator, TypeGuard, cast

Path_ = tuple[tuple[str, int | None], ...]  # from the module to a node: (field, index) steps

LOCK_FACTORIES = {"Lock", "RLock", "Condition", "Semaphore", "BoundedSemaphore"}
WAKERS = {"release", "notify", "notify_all", "notifyAll", "set", "set_exception"}


@dataclass(frozen=True)
class Mutant:
    id: str
    operator: str
    description: str  # what changed, in the student's terms, with the line of the solution
    line: int
    source: str


def mutants(source: str, operators: list[str] | None = None) -> list[Mutant]:
    """Every mutant of SOURCE, in a stable order; those that do not compile, or repeat the
    original or an earlier mutant, are left out."""
    tree = ast.parse(source)
    original = ast.unparse(tree)
    seen = {original}
    found: list[Mutant] = []
    counts: dict[tuple[str, str], int] = {}
    for name, finder in OPERATORS.items():
        if operators is not None and name not in operators:
            continue
        for site in finder(tree):
            mutated = copy.deepcopy(tree)
            site.apply(mutated)
            ast.fix_missing_locations(mutated)
            text = ast.unparse(mutated)
            key = (name, site.function)
            counts[key] = counts.get(key, 0) + 1
            if text in seen:
                continue
            try:
                compile(text, "<mutant>", "exec")
            except SyntaxError:
                continue
            seen.add(text)
            found.append(Mutant(f"{name}:{site.function}:{counts[key]}", name,
                                f"{site.description} (line {site.line})", site.line, text + "\n"))
    return found


# --------------------------------------------------------------------------- sites

@dataclass
class Site:
    function: str  # qualified name of the enclosing function ("Counter.increment"), or "<module>"
    line: int
    description: str
    apply: Callable[[ast.Module], None]  # makes the change in a copy of the tree


def _walk(node: ast.AST, path: Path_ = ()) -> Iterator[tuple[ast.AST, Path_]]:
    yield node, path
    for field, value in ast.iter_fields(node):
        if isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, ast.AST):
                    yield from _walk(item, path + ((field, i),))
        elif isinstance(value, ast.AST):
            yield from _walk(value, path + ((field, None),))


def _resolve(tree: ast.AST, path: Path_) -> Any:
    """The node at PATH in TREE (in a copy of the tree a site was found in): of the kind
    the site found there, which only its operator knows."""
    node: Any = tree
    for field, index in path:
        node = getattr(node, field)
        if index is not None:
            node = node[index]
    return node


def _owner(tree: ast.AST, path: Path_) -> tuple[list[Any], int]:
    """The statement list holding the statement at PATH, and its index there."""
    parent = _resolve(tree, path[:-1])
    field, index = path[-1]
    assert index is not None
    return getattr(parent, field), index


def _function(tree: ast.AST, path: Path_) -> str:
    names, node = [], tree
    for field, index in path:
        node = getattr(node, field)
        if index is not None:
            node = node[index]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
    return ".".join(names) or "<module>"


def _enclosing_def(tree: ast.AST, path: Path_) -> tuple[ast.FunctionDef | None, ast.ClassDef | None]:
    func = cls = None
    node = tree
    for field, index in path:
        node = getattr(node, field)
        if index is not None:
            node = node[index]
        if isinstance(node, ast.FunctionDef):
            func = node
        elif isinstance(node, ast.ClassDef):
            cls, func = node, None
    return func, cls


def _text(node: ast.AST) -> str:
    return ast.unparse(node)


def _is_lock_item(item: ast.withitem) -> bool:
    """`with self._lock:`, `with lock:`, `with forks[i]:`: a lock or condition held, as
    opposed to `with open(...) as f` or `with ThreadPoolExecutor(...) as pool`."""
    return item.optional_vars is None and isinstance(item.context_expr, (ast.Name, ast.Attribute, ast.Subscript))


def _lock_withs(tree: ast.Module) -> Iterator[tuple[ast.With, Path_]]:
    for node, path in _walk(tree):
        if isinstance(node, ast.With) and any(_is_lock_item(i) for i in node.items):
            yield node, path


def _call_attr(node: ast.AST, names: set[str]) -> TypeGuard[ast.Call]:
    """A call of a method named in NAMES (`node.func` is then an ast.Attribute)."""
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in names)


def _splice(stmts: list[ast.stmt], index: int, replacement: list[ast.stmt]) -> None:
    stmts[index:index + 1] = replacement
    if not stmts:
        stmts.append(ast.Pass())


def _own_nodes(node: ast.AST) -> Iterator[ast.AST]:
    """NODE's descendants, not entering nested functions or classes."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        yield child
        yield from _own_nodes(child)


# --------------------------------------------------------------------------- operators

def drop_lock(tree: ast.Module) -> Iterator[Site]:
    for node, path in _lock_withs(tree):
        locks = [i for i, item in enumerate(node.items) if _is_lock_item(item)]
        if len(node.items) == 1:
            def apply(t: ast.Module, path: Path_ = path) -> None:
                stmts, i = _owner(t, path)
                _splice(stmts, i, stmts[i].body)
            yield Site(_function(tree, path), node.lineno,
                       f"`with {_text(node.items[0].context_expr)}:` removed, its body kept", apply)
            continue
        for j in locks:
            def drop_item(t: ast.Module, path: Path_ = path, j: int = j) -> None:
                del _resolve(t, path).items[j]
            yield Site(_function(tree, path), node.lineno,
                       f"`{_text(node.items[j].context_expr)}` no longer taken in `with "
                       f"{', '.join(_text(i.context_expr) for i in node.items)}:`", drop_item)


def _removed(tree: ast.Module, path: Path_, node: ast.stmt, what: str = "") -> Site:
    """The site where the statement NODE, at PATH, is removed."""
    def apply(t: ast.Module, path: Path_ = path) -> None:
        stmts, i = _owner(t, path)
        _splice(stmts, i, [])
    return Site(_function(tree, path), node.lineno, what or f"`{_text(node)}` removed", apply)


def _dropped_calls(tree: ast.Module, methods: set[str],
                   keep: Callable[[ast.Expr], bool] = lambda node: True) -> Iterator[Site]:
    """Every statement that is only a call of one of METHODS (`lock.acquire()`), removed."""
    for node, path in _statements(tree):
        if isinstance(node, ast.Expr) and _call_attr(node.value, methods) and keep(node):
            yield _removed(tree, path, node)


def drop_acquire(tree: ast.Module) -> Iterator[Site]:
    yield from _dropped_calls(tree, {"acquire"})


def drop_timeout(tree: ast.Module) -> Iterator[Site]:
    for node, path in _walk(tree):
        if not _call_attr(node, {"acquire", "wait", "wait_for", "join", "get", "result"}):
            continue
        keyword = [i for i, k in enumerate(node.keywords) if k.arg == "timeout"]
        if keyword or (node.args and cast(ast.Attribute, node.func).attr in {"join", "wait"}):
            def apply(t: ast.Module, path: Path_ = path, keyword: list[int] = keyword) -> None:
                call = _resolve(t, path)
                if keyword:
                    del call.keywords[keyword[0]]
                else:
                    call.args = call.args[:-1] if call.func.attr == "wait_for" else []
            yield Site(_function(tree, path), node.lineno,
                       f"the timeout of `{_text(node)}` dropped (waits for ever)", apply)


WEAKER = {"BoundedSemaphore": "Semaphore", "RLock": "Lock"}
WHAT_IS_LOST = {"BoundedSemaphore": "a release too many is no longer refused",
                "RLock": "a thread taking it twice now waits for itself"}


def weaker_primitive(tree: ast.Module) -> Iterator[Site]:
    for node, path in _walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name in WEAKER:
            def apply(t: ast.Module, path: Path_ = path) -> None:
                f = _resolve(t, path).func
                if isinstance(f, ast.Attribute):
                    f.attr = WEAKER[f.attr]
                else:
                    f.id = WEAKER[f.id]
            yield Site(_function(tree, path), node.lineno,
                       f"`{_text(node)}` made a {WEAKER[name]} ({WHAT_IS_LOST[name]})", apply)


def _validates_arguments(func: ast.FunctionDef | None, stmt: ast.stmt) -> bool:
    """Whether STMT is the function's first statement (after its docstring): a check of
    the arguments, which the interfaces of the exercises leave unspecified."""
    if func is None:
        return False
    body = func.body[1:] if func.body and isinstance(func.body[0], ast.Expr) \
        and isinstance(func.body[0].value, ast.Constant) else func.body
    return bool(body) and body[0] is stmt


def swallow_error(tree: ast.Module) -> Iterator[Site]:
    for node, path in _walk(tree):
        if not isinstance(node, ast.If):
            continue
        func, _ = _enclosing_def(tree, path)
        if _validates_arguments(func, node):
            continue
        for i, stmt in enumerate(node.body):
            if isinstance(stmt, ast.Raise) and stmt.exc is not None:
                def apply(t: ast.Module, p: Path_ = path + (("body", i),)) -> None:
                    stmts, j = _owner(t, p)
                    stmts[j] = ast.Pass()
                yield Site(_function(tree, path), stmt.lineno,
                           f"`{_text(stmt).splitlines()[0]}` dropped (the error is swallowed)", apply)
    for node, path in _walk(tree):
        if isinstance(node, ast.ExceptHandler):
            for i, stmt in enumerate(node.body):
                if isinstance(stmt, ast.Raise) and stmt.exc is not None:
                    def apply(t: ast.Module, p: Path_ = path + (("body", i),)) -> None:
                        stmts, j = _owner(t, p)
                        stmts[j] = ast.Pass()
                    yield Site(_function(tree, path), stmt.lineno,
                               f"`{_text(stmt).splitlines()[0]}` in an except block dropped "
                               "(the error is swallowed)", apply)


def one_worker(tree: ast.Module) -> Iterator[Site]:
    for node, path in _walk(tree):
        if not (isinstance(node, ast.Call) and _text(node.func).split(".")[-1]
                in {"ThreadPoolExecutor", "ProcessPoolExecutor", "Pool"}):
            continue
        if node.args or any(k.arg in {"max_workers", "processes"} for k in node.keywords):
            def apply(t: ast.Module, path: Path_ = path) -> None:
                call = _resolve(t, path)
                if call.args:
                    call.args[0] = ast.Constant(1)
                for k in call.keywords:
                    if k.arg in {"max_workers", "processes"}:
                        k.value = ast.Constant(1)
            yield Site(_function(tree, path), node.lineno,
                       f"`{_text(node)}` given one worker (serial)", apply)


def move_out(tree: ast.Module) -> Iterator[Site]:
    for node, path in _lock_withs(tree):
        if len(node.body) < 2:
            continue
        lock = ", ".join(_text(i.context_expr) for i in node.items)
        for where in ("last", "first"):
            moved = node.body[-1] if where == "last" else node.body[0]
            if isinstance(moved, ast.Pass):
                continue

            def apply(t: ast.Module, path: Path_ = path, where: str = where) -> None:
                stmts, i = _owner(t, path)
                with_node = stmts[i]
                if where == "last":
                    stmt = with_node.body.pop()
                    stmts.insert(i + 1, stmt)
                else:
                    stmt = with_node.body.pop(0)
                    stmts.insert(i, stmt)
            first_line = _text(moved).splitlines()[0]
            yield Site(_function(tree, path), moved.lineno,
                       f"`{first_line}` moved {'after' if where == 'last' else 'before'} "
                       f"`with {lock}:` (out of the critical section)", apply)


def while_to_if(tree: ast.Module) -> Iterator[Site]:
    for node, path in _walk(tree):
        if isinstance(node, ast.While) and any(_call_attr(n, {"wait"}) for n in _own_nodes(node)):
            def apply(t: ast.Module, path: Path_ = path) -> None:
                stmts, i = _owner(t, path)
                loop = stmts[i]
                stmts[i] = ast.If(test=loop.test, body=loop.body, orelse=loop.orelse)
            yield Site(_function(tree, path), node.lineno,
                       f"`while {_text(node.test)}:` around wait() made an `if`", apply)


def notify_all_to_notify(tree: ast.Module) -> Iterator[Site]:
    for node, path in _walk(tree):
        if _call_attr(node, {"notify_all", "notifyAll"}):
            def apply(t: ast.Module, path: Path_ = path) -> None:
                _resolve(t, path).func.attr = "notify"
            yield Site(_function(tree, path), node.lineno,
                       f"`{_text(node)}` made `{_text(cast(ast.Attribute, node.func).value)}.notify()` (wakes one waiter)", apply)


def swap_acquisitions(tree: ast.Module) -> Iterator[Site]:
    for node, path in _lock_withs(tree):
        locks = [item for item in node.items if _is_lock_item(item)]
        if len(node.items) >= 2 and len(locks) == len(node.items):
            def apply(t: ast.Module, path: Path_ = path) -> None:
                _resolve(t, path).items.reverse()
            yield Site(_function(tree, path), node.lineno,
                       f"`with {', '.join(_text(i.context_expr) for i in node.items)}:` takes its "
                       "locks in the other order", apply)
        if len(node.items) != 1 or not _is_lock_item(node.items[0]):
            continue
        for k, inner in enumerate(n for n in _own_nodes(node) if isinstance(n, ast.With)):
            if len(inner.items) != 1 or not _is_lock_item(inner.items[0]):
                continue

            def swap_nested(t: ast.Module, path: Path_ = path, k: int = k) -> None:
                outer = _resolve(t, path)
                nested = [n for n in _own_nodes(outer) if isinstance(n, ast.With)][k]
                outer.items, nested.items = nested.items, outer.items
            yield Site(_function(tree, path), node.lineno,
                       f"`with {_text(node.items[0].context_expr)}:` and the `with "
                       f"{_text(inner.items[0].context_expr)}:` inside it swapped (the locks are "
                       "taken in the other order)", swap_nested)
    for parent, path in _walk(tree):
        for field in ("body", "orelse", "finalbody"):
            stmts = getattr(parent, field, None)
            if not isinstance(stmts, list):
                continue
            for i in range(len(stmts) - 1):
                a, b = stmts[i], stmts[i + 1]
                if (isinstance(a, ast.Expr) and _call_attr(a.value, {"acquire"})
                        and isinstance(b, ast.Expr) and _call_attr(b.value, {"acquire"})):
                    def swap_statements(t: ast.Module, path: Path_ = path, field: str = field, i: int = i) -> None:
                        body = getattr(_resolve(t, path), field)
                        body[i], body[i + 1] = body[i + 1], body[i]
                    yield Site(_function(tree, path + ((field, i),)), a.lineno,
                               f"`{_text(a)}` and `{_text(b)}` swapped", swap_statements)


def _statements(tree: ast.Module) -> Iterator[tuple[ast.stmt, Path_]]:
    for node, path in _walk(tree):
        if isinstance(node, ast.stmt):
            yield node, path


def drop_join(tree: ast.Module) -> Iterator[Site]:
    # Not `", ".join(...)`: a string's join is no thread's.
    yield from _dropped_calls(tree, {"join"},
                              lambda node: not isinstance(cast(ast.Attribute, cast(ast.Call, node.value).func).value,
                                                          ast.Constant))


def drop_release(tree: ast.Module) -> Iterator[Site]:
    for node, path in _walk(tree):
        bodies = []
        if isinstance(node, ast.ExceptHandler):
            bodies.append(("body", "an except"))
        if isinstance(node, ast.Try) and node.finalbody:
            bodies.append(("finalbody", "a finally"))
        for field, where in bodies:
            for i, stmt in enumerate(getattr(node, field)):
                for inner, inner_path in _walk(stmt, path + ((field, i),)):
                    if isinstance(inner, ast.Expr) and _call_attr(inner.value, WAKERS):
                        yield _removed(tree, inner_path, inner,
                                       f"`{_text(inner)}` removed from {where} block (the error path)")


def _lock_attributes(cls: ast.ClassDef) -> dict[str, ast.Call]:
    """self.<name> = threading.Lock() (or RLock, Condition, ...) in __init__."""
    found: dict[str, ast.Call] = {}
    for item in cls.body:
        if isinstance(item, ast.FunctionDef) and item.name == "__init__":
            for node in ast.walk(item):
                if (isinstance(node, ast.Assign) and len(node.targets) == 1 and _is_lock_factory(node.value)
                        and isinstance(node.targets[0], ast.Attribute)
                        and isinstance(node.targets[0].value, ast.Name) and node.targets[0].value.id == "self"):
                    found[node.targets[0].attr] = node.value
    return found


def _is_lock_factory(node: ast.AST) -> TypeGuard[ast.Call]:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    return name in LOCK_FACTORIES


def _insert_first(body: list[ast.stmt], stmt: ast.stmt) -> None:
    start = 1 if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) else 0
    body.insert(start, stmt)


def lock_in_method(tree: ast.Module) -> Iterator[Site]:
    for node, path in _walk(tree):
        if not isinstance(node, ast.ClassDef):
            continue
        locks = _lock_attributes(node)
        for k, method in enumerate(node.body):
            if not isinstance(method, ast.FunctionDef) or method.name == "__init__":
                continue
            for attr, factory in locks.items():
                uses = [n for n in ast.walk(method) if isinstance(n, ast.Attribute) and n.attr == attr
                        and isinstance(n.value, ast.Name) and n.value.id == "self"]
                if not uses:
                    continue

                def apply(t: ast.Module, mpath: Path_ = path + (("body", k),), attr: str = attr,
                          factory: ast.Call = factory) -> None:
                    fn = _resolve(t, mpath)
                    local = f"_{attr.lstrip('_')}_here"

                    class Swap(ast.NodeTransformer):
                        def visit_Attribute(self, n: ast.Attribute) -> ast.AST:
                            if n.attr == attr and isinstance(n.value, ast.Name) and n.value.id == "self":
                                return ast.copy_location(ast.Name(local, ast.Load()), n)
                            return self.generic_visit(n)
                    fn.body = [Swap().visit(s) for s in fn.body]
                    _insert_first(fn.body, ast.Assign([ast.Name(local, ast.Store())], copy.deepcopy(factory)))
                yield Site(f"{node.name}.{method.name}", method.lineno,
                           f"self.{attr} made anew in {method.name}() (`{_text(factory)}` at every call)", apply)
    # Module-level locks used by module-level functions.
    module_locks = {s.targets[0].id: s.value for s in tree.body
                    if isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name)
                    and _is_lock_factory(s.value)}
    for k, fn in enumerate(tree.body):
        if not isinstance(fn, ast.FunctionDef):
            continue
        for name, factory in module_locks.items():
            if not any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(fn)):
                continue

            def make_anew(t: ast.Module, k: int = k, name: str = name, factory: ast.Call = factory) -> None:
                _insert_first(cast(ast.FunctionDef, t.body[k]).body,
                              ast.Assign([ast.Name(name, ast.Store())], copy.deepcopy(factory)))
            yield Site(fn.name, fn.lineno, f"{name} made anew in {fn.name}() (`{_text(factory)}` at every call)",
                       make_anew)


def _self_call(func: ast.FunctionDef, in_class: bool) -> ast.expr | None:
    """A call of FUNC with its own parameters: `self.get(key)`, `transfer(src, dst, amount)`."""
    args = [a.arg for a in func.args.args]
    if func.args.vararg or func.args.kwarg or func.args.kwonlyargs:
        return None
    if in_class:
        if not args or args[0] != "self":
            return None
        target: ast.expr = ast.Attribute(ast.Name("self", ast.Load()), func.name, ast.Load())
        args = args[1:]
    else:
        target = ast.Name(func.name, ast.Load())
    return ast.Call(target, [ast.Name(a, ast.Load()) for a in args], [])


def retry(tree: ast.Module) -> Iterator[Site]:
    for node, path in _walk(tree):
        func, cls = _enclosing_def(tree, path)
        if func is None or func.name.startswith("__"):
            continue
        in_class = cls is not None and func in cls.body
        call = _self_call(func, in_class)
        if call is None:
            continue
        if isinstance(node, ast.ExceptHandler):
            for i, stmt in enumerate(node.body):
                if isinstance(stmt, ast.Raise) and stmt.exc is None:
                    def apply(t: ast.Module, p: Path_ = path + (("body", i),), call: ast.expr = call) -> None:
                        stmts, j = _owner(t, p)
                        stmts[j] = ast.Return(copy.deepcopy(call))
                    yield Site(_function(tree, path), stmt.lineno,
                               f"`raise` in the except block made `return {_text(call)}` (retried, "
                               "not propagated)", apply)
        if (isinstance(node, ast.Return) and node.value is not None
                and _call_attr(node.value, {"result"})):
            def apply(t: ast.Module, p: Path_ = path, call: ast.expr = call) -> None:
                stmts, j = _owner(t, p)
                original = stmts[j]
                stmts[j] = ast.Try(body=[original], handlers=[ast.ExceptHandler(
                    ast.Name("Exception", ast.Load()), None, [ast.Return(copy.deepcopy(call))])],
                    orelse=[], finalbody=[])
            yield Site(_function(tree, path), node.lineno,
                       f"`{_text(node)}` retries with `{_text(call)}` when the result is an "
                       "exception (retried, not propagated)", apply)


def _callbacks(func: ast.FunctionDef, cls: ast.ClassDef | None) -> set[str]:
    """What FUNC may call that it was given: its parameters, and self.<attr> that __init__
    set from a parameter (`self._load = load`)."""
    given = {a.arg for a in func.args.args if a.arg != "self"}
    if cls is not None:
        for item in cls.body:
            if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                params = {a.arg for a in item.args.args}
                for n in ast.walk(item):
                    if (isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Attribute)
                            and isinstance(n.value, ast.Name) and n.value.id in params):
                        given.add(f"self.{n.targets[0].attr}")
    return given


def call_twice(tree: ast.Module) -> Iterator[Site]:
    for node, path in _statements(tree):
        func, cls = _enclosing_def(tree, path)
        if func is None:
            continue
        value = node.value if isinstance(node, (ast.Expr, ast.Assign, ast.Return)) else None
        if not isinstance(value, ast.Call):
            continue
        name = _text(value.func)
        if name not in _callbacks(func, cls):
            continue

        def apply(t: ast.Module, path: Path_ = path) -> None:
            stmts, i = _owner(t, path)
            stmts.insert(i, ast.Expr(copy.deepcopy(stmts[i].value)))
        yield Site(_function(tree, path), node.lineno, f"`{_text(value)}` called twice", apply)


OPERATORS: dict[str, Callable[[ast.Module], Iterator[Site]]] = {
    "drop_lock": drop_lock,
    "drop_acquire": drop_acquire,
    "move_out": move_out,
    "while_to_if": while_to_if,
    "notify_all_to_notify": notify_all_to_notify,
    "swap_acquisitions": swap_acquisitions,
    "drop_join": drop_join,
    "drop_release": drop_release,
    "lock_in_method": lock_in_method,
    "retry": retry,
    "call_twice": call_twice,
    "drop_timeout": drop_timeout,
    "one_worker": one_worker,
    "weaker_primitive": weaker_primitive,
    "swallow_error": swallow_error,
}
