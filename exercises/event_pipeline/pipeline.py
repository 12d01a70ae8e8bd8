"""The event builder: events from the detector readout go to worker threads that build
them, through a thread-safe queue.

This version gives the right results on a short test run. On a real run it reads the
whole spill out of the detector before building anything (the buffers overflow), it
leaves its worker threads behind after every call, and one bad event makes it hang
forever: fix it (see README.md).
"""
import queue
import threading


def run_pipeline(events, process, n_workers, max_pending):
    """Build every event with `process`, in `n_workers` threads; results in input order."""
    todo = queue.Queue()  # unbounded: nothing stops the readout from running ahead
    results = {}

    def worker():
        while True:  # and never leaves
            index, event = todo.get()
            results[index] = process(event)
            todo.task_done()

    for _ in range(n_workers):
        threading.Thread(target=worker, daemon=True).start()

    count = 0
    for index, event in enumerate(events):  # takes events as fast as it can
        todo.put((index, event))
        count += 1
    todo.join()  # wait until every event is built
    return [results[index] for index in range(count)]
