"""Download the calibration files of a run: the reference solution.

Fetching a file is I/O-bound: the thread spends its time waiting for the server, and a
thread waiting on the network does not hold the GIL. So threads help here, even on one
core: `max_workers` downloads waiting at the same time take about as long as one. A
ThreadPoolExecutor keeps exactly `max_workers` threads, hands each one the next URL as
soon as it is free, and is shut down (its threads joined) when the `with` block ends.
"""
from concurrent.futures import ThreadPoolExecutor


def download_all(urls, fetch, max_workers):
    """Fetch every URL with `fetch`, at most `max_workers` at once; a URL whose fetch
    raised maps to the exception it raised, and the other URLs still complete."""
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        # Submit everything first, then collect: waiting on a future right after
        # submitting it would make the downloads one after the other again.
        futures = {url: pool.submit(fetch, url) for url in urls}
        results = {}
        for url, future in futures.items():
            error = future.exception()  # waits for this download; never raises its error
            results[url] = error if error is not None else future.result()
    return results
