from concurrent.futures import ThreadPoolExecutor


def download_all(urls, fetch, max_workers):
    results = {}
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        for url in urls:
            future = pool.submit(fetch, url)
            error = future.exception()  # waits for this download before submitting the next
            results[url] = error if error is not None else future.result()
    return results
