

def download_all(urls, fetch, max_workers):
    """Fetch every URL with `fetch`; a URL whose fetch raised maps to the exception."""
    results = {}
    for url in urls:  # one at a time: each waits for the previous to arrive
        try:
            results[url] = fetch(url)
        except Exception as exc:  # a failed download is that URL's result; go on
            results[url] = exc
    return results
