import threading


def download_all(urls, fetch, max_workers):
    results = {}

    def download(url):
        try:
            results[url] = fetch(url)
        except Exception as exc:
            results[url] = exc

    threads = [threading.Thread(target=download, args=(url,)) for url in urls]  # one per URL
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
