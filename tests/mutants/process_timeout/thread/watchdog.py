"""A student's watchdog, wrong in one way: the fit runs in a thread.

join(timeout) returns on time, but a thread cannot be killed: the fit runs on in the
caller's process, a C call holding the GIL blocks the caller too, and os._exit in the
fit ends the caller.
"""
import threading


def run_with_timeout(func, args, timeout):
    outcome = {}

    def target():
        try:
            outcome["result"] = func(*args)
        except Exception as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise TimeoutError(f"{func.__name__} did not finish within {timeout} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]
