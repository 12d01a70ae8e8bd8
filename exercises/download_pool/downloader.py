"""Download the calibration files of a run from the conditions server.

The server is slow to answer: each file takes about a second, nearly all of it spent
waiting for the network, while the CPU does nothing. This version fetches the files one
after the other, so 200 files take over three minutes: make it fetch up to `max_workers`
files at the same time (see README.md).
"""


def download_all(urls, fetch, max_workers):
    """Fetch every URL with `fetch`; a URL whose fetch raised maps to the exception."""
    results = {}
    for url in urls:  # one at a time: each waits for the previous to arrive
        try:
            results[url] = fetch(url)
        except Exception as exc:  # a failed download is that URL's result; go on
            results[url] = exc
    return results
