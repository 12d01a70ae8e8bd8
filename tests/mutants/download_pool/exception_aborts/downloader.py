from concurrent.futures import ThreadPoolExecutor


def download_all(urls, fetch, max_workers):
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        futures = {url: pool.submit(fetch, url) for url in urls}
        return {url: future.result() for url, future in futures.items()}  # raises the first error
