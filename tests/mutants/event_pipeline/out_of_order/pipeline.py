import queue
import threading

_STOP = object()


def run_pipeline(events, process, n_workers, max_pending):
    slots = threading.Semaphore(max_pending)
    todo = queue.Queue()
    results = []  # appended as events finish: the order of completion
    errors = []

    def worker():
        while True:
            event = todo.get()
            if event is _STOP:
                return
            try:
                if not errors:
                    results.append(process(event))
            except BaseException as exc:
                errors.append(exc)
            finally:
                slots.release()

    workers = [threading.Thread(target=worker) for _ in range(n_workers)]
    for thread in workers:
        thread.start()
    try:
        source = iter(events)
        while True:
            slots.acquire()
            if errors:
                break
            try:
                event = next(source)
            except StopIteration:
                break
            todo.put(event)
    finally:
        for _ in workers:
            todo.put(_STOP)
        for thread in workers:
            thread.join()
    if errors:
        raise errors[0]
    return results
