"""A student's watchdog, wrong in one way: a Queue and get(timeout=timeout):
a child that died without a word is only noticed when the timeout runs out, as a TimeoutError."""
import multiprocessing
import queue
import os
import signal


def _child(conn, func, args):
    os.setpgid(0, 0)  # own process group, so killpg reaches what the fit starts
    try:
        conn.put(("ok", func(*args)))
    except Exception as exc:
        conn.put(("error", exc))


def _killpg(pid, sig):
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


def run_with_timeout(func, args, timeout):
    results = multiprocessing.Queue()
    p = multiprocessing.Process(target=_child, args=(results, func, args))
    p.start()
    try:
        kind, value = results.get(timeout=timeout)
    except queue.Empty:
        _killpg(p.pid, signal.SIGTERM)
        p.join(0.1)
        _killpg(p.pid, signal.SIGKILL)
        p.join()
        raise TimeoutError(f"{func.__name__} did not finish within {timeout} s")
    p.join()
    if kind == "error":
        raise value
    return value
