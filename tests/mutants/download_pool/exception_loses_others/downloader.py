from concurrent.futures import ThreadPoolExecutor


def download_all(urls, fetch, max_workers):
    results = {}
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        futures = {url: pool.submit(fetch, url) for url in urls}
        try:
            for url, future in futures.items():
                results[url] = future.result()
        except Exception as exc:
            results[url] = exc  # the failed one is recorded... and the loop is over
    return results
