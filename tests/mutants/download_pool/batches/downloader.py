from concurrent.futures import ThreadPoolExecutor


def download_all(urls, fetch, max_workers):
    results = {}
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        for start in range(0, len(urls), max_workers):  # a batch of max_workers at a time
            batch = urls[start:start + max_workers]
            futures = {url: pool.submit(fetch, url) for url in batch}
            for url, future in futures.items():
                error = future.exception()
                results[url] = error if error is not None else future.result()
    return results
