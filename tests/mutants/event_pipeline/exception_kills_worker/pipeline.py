import queue
import threading

_STOP = object()  # the sentinel: "no more events", one per worker


def run_pipeline(events, process, n_workers, max_pending):
    if n_workers < 1 or max_pending < 1:
        raise ValueError("n_workers and max_pending must be at least 1")
    slots = threading.Semaphore(max_pending)
    todo = queue.Queue()  # never holds more than max_pending: the slots bound it
    results = {}
    errors = []  # the first exception from process(), for the caller

    def worker():
        while True:
            item = todo.get()  # sleeps until there is work: no busy waiting
            if item is _STOP:
                return
            index, event = item
            results[index] = process(event)
            slots.release()

    workers = [threading.Thread(target=worker, name=f"builder-{i}") for i in range(n_workers)]
    for thread in workers:
        thread.start()
    taken = 0
    try:
        source = iter(events)
        while True:
            slots.acquire()  # room for one more pending event, or wait
            if errors:
                break  # stop reading the detector: the run has failed
            try:
                event = next(source)
            except StopIteration:
                break
            todo.put((taken, event))
            taken += 1
    finally:
        # Whatever happened (even an exception from the events themselves), every worker
        # gets its sentinel and is joined: no thread outlives run_pipeline.
        for _ in workers:
            todo.put(_STOP)
        for thread in workers:
            thread.join()
    if errors:
        raise errors[0]
    return [results[index] for index in range(taken)]
