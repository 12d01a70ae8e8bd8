"""Another correct pipeline: a ThreadPoolExecutor for the workers, and backpressure by
waiting for the oldest pending event before taking a new one once max_pending are out.

Graded like the reference: it must score full marks too.
"""
from collections import deque
from concurrent.futures import ThreadPoolExecutor


def run_pipeline(events, process, n_workers, max_pending):
    results = []
    pending = deque()  # futures of events taken and not yet collected, oldest first
    with ThreadPoolExecutor(max_workers=n_workers) as pool:
        try:
            for event in events:
                pending.append(pool.submit(process, event))
                # Collect in input order; once max_pending are out, wait for the oldest.
                while pending and (pending[0].done() or len(pending) >= max_pending):
                    results.append(pending.popleft().result())
            while pending:
                results.append(pending.popleft().result())
        except BaseException:
            for future in pending:
                future.cancel()
            raise
    return results
