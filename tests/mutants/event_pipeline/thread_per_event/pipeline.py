import threading


def run_pipeline(events, process, n_workers, max_pending):
    slots = threading.Semaphore(max_pending)
    results = {}
    errors = []
    threads = []

    def build(index, event):
        try:
            results[index] = process(event)
        except BaseException as exc:
            errors.append(exc)
        finally:
            slots.release()

    count = 0
    for event in events:
        slots.acquire()
        thread = threading.Thread(target=build, args=(count, event))  # one thread per event
        thread.start()
        threads.append(thread)
        count += 1
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return [results[i] for i in range(count)]
