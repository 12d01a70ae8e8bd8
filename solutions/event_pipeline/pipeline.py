"""The event-building pipeline: the reference solution.

The readout thread (the caller of run_pipeline) takes events from the detector and hands
them to `n_workers` builder threads through a thread-safe queue.Queue. Three things make
it right:

- backpressure: a semaphore of `max_pending` slots. The readout takes a slot *before* it
  takes the next event, a worker gives it back once that event is processed, so at most
  `max_pending` events are ever out of the detector and not yet built. (A bounded queue
  alone is not enough: the events the workers are holding are pending too.)
- order: every event travels with its index, and results are put back in that order.
- a clean stop: one sentinel per worker tells each worker there is no more work; the
  readout joins them all before it returns or re-raises a worker's exception.
"""
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
            try:
                if not errors:  # after a failure, drain the queue without processing
                    results[index] = process(event)
            except BaseException as exc:  # noqa: B036 - handed to the caller, re-raised there
                errors.append(exc)
            finally:
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
