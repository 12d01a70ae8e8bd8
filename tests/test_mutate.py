"""grader/mutate.py: each operator makes the intended change, and only that change, on a
small sample; mutants are distinct, compile, and keep stable ids."""
import ast
import textwrap

import pytest

from grader.mutate import OPERATORS, mutants

COUNTER = textwrap.dedent('''
    import threading

    class Counter:
        def __init__(self, load):
            self._lock = threading.Lock()
            self._load = load
            self._value = 0

        def increment(self, n=1):
            with self._lock:
                current = self._value
                self._value = current + n

        def get(self, key):
            try:
                value = self._load(key)
            except Exception:
                self._lock.release()
                raise
            return value
''')

MONITOR = textwrap.dedent('''
    import threading
    from concurrent.futures import ThreadPoolExecutor

    cond = threading.Condition()

    def wait_ready(state):
        with cond:
            while not state.ready:
                cond.wait(timeout=5)
            cond.notify_all()

    def both(a, b):
        with a.lock:
            with b.lock:
                a.x, b.x = b.x, a.x
        with a.lock, b.lock:
            pass
        a.lock.acquire()
        b.lock.acquire()

    def run(items, f):
        threads = [threading.Thread(target=f, args=(i,)) for i in items]
        for t in threads:
            t.join()
        with ThreadPoolExecutor(max_workers=4) as pool:
            return list(pool.map(f, items))

    def fetch_one(future):
        return future.result()
''')


def only(source, operator):
    return mutants(source, operators=[operator])


def same_but(original, mutated):
    """The unparsed lines of MUTATED that are not in ORIGINAL, and the reverse."""
    a = ast.unparse(ast.parse(original)).splitlines()
    b = mutated.splitlines()
    return [line.strip() for line in b if line not in a], [line.strip() for line in a if line not in b]


def test_drop_lock_keeps_the_body():
    (m,) = [m for m in only(COUNTER, "drop_lock") if "increment" in m.id]
    assert "with self._lock" not in m.source
    assert "current = self._value" in m.source and "self._value = current + n" in m.source
    assert m.id == "drop_lock:Counter.increment:1"


def test_move_out_moves_first_and_last_statement():
    moved = only(COUNTER, "move_out")
    assert len(moved) == 2
    last = next(m for m in moved if "after" in m.description)
    body = last.source.split("def increment")[1].split("def get")[0]
    # the write now follows the with block, at the method's own indentation
    assert "\n        self._value = current + n" in body
    first = next(m for m in moved if "before" in m.description)
    assert first.source.index("current = self._value") < first.source.index("with self._lock")


def test_while_around_wait_becomes_if():
    (m,) = only(MONITOR, "while_to_if")
    assert "if not state.ready:" in m.source and "while not state.ready" not in m.source


def test_notify_all_becomes_notify():
    (m,) = only(MONITOR, "notify_all_to_notify")
    assert "cond.notify()" in m.source and "notify_all" not in m.source


def test_swap_acquisitions_in_three_forms():
    swapped = only(MONITOR, "swap_acquisitions")
    sources = [m.source for m in swapped]
    assert any("with b.lock:\n        with a.lock:" in s for s in sources)  # nested with
    assert any("with b.lock, a.lock:" in s for s in sources)  # one with, two locks
    assert any(s.index("b.lock.acquire()") < s.index("a.lock.acquire()") for s in sources)
    assert len(swapped) == 3


def test_drop_join_removes_the_join_only():
    (m,) = only(MONITOR, "drop_join")
    added, removed = same_but(MONITOR, m.source)
    assert removed == ["t.join()"] and "for t in threads:\n        pass" in m.source


def test_drop_release_only_in_error_paths():
    (m,) = only(COUNTER, "drop_release")
    added, removed = same_but(COUNTER, m.source)
    assert removed == ["self._lock.release()"] and added == []


def test_lock_in_method_makes_a_fresh_lock_per_call():
    made = {m.id: m for m in only(COUNTER, "lock_in_method")}
    m = made["lock_in_method:Counter.increment:1"]
    body = m.source.split("def increment")[1].split("def get")[0]
    assert "_lock_here = threading.Lock()" in body and "with _lock_here:" in body
    assert "self._lock = threading.Lock()" in m.source  # __init__ untouched
    module_level = only(MONITOR, "lock_in_method")
    assert any("def wait_ready" in m.description or "wait_ready()" in m.description for m in module_level)


def test_retry_replaces_raise_and_wraps_result():
    (raised,) = only(COUNTER, "retry")
    assert "return self.get(key)" in raised.source and "raise" not in raised.source.split("def get")[1]
    (result,) = only(MONITOR, "retry")
    assert "except Exception:\n        return fetch_one(future)" in result.source


def test_call_twice_duplicates_a_given_callback():
    (m,) = only(COUNTER, "call_twice")
    assert m.source.count("self._load(key)") == 2


def test_weaker_primitive_and_swallowed_error():
    sample = textwrap.dedent('''
        import threading

        class Pool:
            def __init__(self, n):
                if n < 1:
                    raise ValueError("n must be at least 1")
                self._slots = threading.BoundedSemaphore(n)
                self._lock = threading.RLock()

            def give_back(self):
                try:
                    self._slots.release()
                except ValueError:
                    raise ValueError("more releases than takes") from None
                if self._slots is None:
                    raise RuntimeError("closed")
    ''')
    weaker = {m.description.split("`")[1]: m for m in only(sample, "weaker_primitive")}
    assert "threading.Semaphore(n)" in weaker["threading.BoundedSemaphore(n)"].source
    assert "self._lock = threading.Lock()" in weaker["threading.RLock()"].source
    swallowed = only(sample, "swallow_error")
    # The check of the arguments at the top of __init__ is left alone.
    assert len(swallowed) == 2 and all("n must be at least 1" in m.source for m in swallowed)
    assert all(m.source.count("raise ") == 2 for m in swallowed)


def test_drop_timeout_and_one_worker():
    (m,) = only(MONITOR, "drop_timeout")
    assert "cond.wait()" in m.source
    (w,) = only(MONITOR, "one_worker")
    assert "ThreadPoolExecutor(max_workers=1)" in w.source


@pytest.mark.parametrize("sample", [COUNTER, MONITOR])
def test_every_mutant_compiles_and_differs(sample):
    found = mutants(sample)
    assert found
    texts = [m.source for m in found]
    assert len(set(texts)) == len(texts)
    original = ast.unparse(ast.parse(sample)) + "\n"
    for m in found:
        assert m.source != original
        compile(m.source, m.id, "exec")
        assert m.operator in OPERATORS and m.id.startswith(m.operator + ":")
    assert len({m.id for m in found}) == len(found)


def test_ids_do_not_depend_on_unrelated_lines():
    shifted = "import os\n\n\n" + COUNTER
    assert [m.id for m in mutants(COUNTER)] == [m.id for m in mutants(shifted)]
