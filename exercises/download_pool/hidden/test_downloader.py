"""Hidden tests of download_pool: threads for I/O-bound work.

Every check runs the student's download_all under the controlled scheduler, which may
switch threads between any two bytecodes of downloader.py and at every lock or queue
operation (a ThreadPoolExecutor in the student's code runs on the same controlled
primitives). The test's fake server answers each fetch after a latency of *virtual*
time (`run.sleep`): the clock jumps forward when every thread waits, so "8 downloads of
1 s with 4 workers take 2.0 s" holds exactly, whatever the load of the grading machine,
and a download loop that is serial takes exactly the sum of the latencies.
"""
import heapq

from grader.testing import plural

# Far above what a correct download_all runs here (a few hundred bytecodes of
# downloader.py a schedule).
MAX_STEPS = 5_000


class Server:
    """The conditions server: answers each URL after its latency, or fails it."""

    def __init__(self, run, latencies, failing=(), max_workers=None):
        self.run, self.latencies = run, dict(latencies)
        self.failing = set(failing)
        self.max_workers = max_workers
        self.active = self.most_active = 0
        self.fetches = 0

    @property
    def urls(self):
        return list(self.latencies)

    def fetch(self, url):
        self.fetches += 1
        self.active += 1
        self.most_active = max(self.most_active, self.active)
        if self.max_workers is not None:
            self.run.check(self.active <= self.max_workers,
                           f"{self.active} downloads were running at the same time with "
                           f"max_workers={self.max_workers}: at most max_workers fetches may "
                           "run at once (the server refuses more connections)",
                           verdict="wrong", most_at_once=self.active)
        try:
            self.run.sleep(self.latencies[url])  # waiting for the network
            if url in self.failing:
                raise ConnectionError(f"{url}: connection reset by peer")
            return content(url)
        finally:
            self.active -= 1


def content(url):
    return f"calibration constants from {url}".encode()


def urls(count, prefix="run1234/calib"):
    return [f"https://conditions.lab/{prefix}-{i:02d}.db" for i in range(count)]


def ideal_time(latencies, workers):
    """Makespan of the URLs handed out in order, each to the first free worker: what a
    pool of `workers` threads reaches, and nothing with `workers` at once does better
    in general."""
    free = [0.0] * workers
    for latency in latencies:
        start = heapq.heappop(free)
        heapq.heappush(free, start + latency)
    return max(free) if latencies else 0.0


def _download_all(student):
    return student.module("downloader").download_all


def _call(run, download_all, server, max_workers, what):
    try:
        return download_all(server.urls, server.fetch, max_workers)
    except Exception as exc:  # noqa: BLE001 - any exception here is the submission's
        run.check(False, f"download_all({what}) raised {type(exc).__name__}: {exc}",
                  verdict="error")


def _check_all_present(run, results, server, what):
    run.check(isinstance(results, dict),
              f"download_all({what}) returned {type(results).__name__}, expected a dict "
              "of url -> bytes", verdict="wrong")
    missing = [u for u in server.urls if u not in results]
    run.check(not missing, f"download_all({what}) returned no entry for "
                           f"{plural(len(missing), 'URL')}, for example {missing[:1]}: every "
                           "URL must be in the result", verdict="wrong")
    extra = [u for u in results if u not in server.latencies]
    run.check(not extra, f"download_all({what}) returned entries for URLs it was not given: "
                         f"{extra[:2]}", verdict="wrong")


def test_every_url_present(student, engine, exercise):
    """Every URL maps to what its fetch returned; no URLs gives {}."""
    download_all = _download_all(student)
    count, workers = exercise.params["present"]["urls"], exercise.params["present"]["workers"]

    def scenario(run):
        empty = Server(run, {})
        results = _call(run, download_all, empty, workers, "[] (no URLs)")
        run.check(results == {}, f"download_all with no URLs returned {results!r}, expected {{}}",
                  verdict="wrong")

        latencies = {url: 0.1 * (1 + i % 3) for i, url in enumerate(urls(count))}
        server = Server(run, latencies)
        what = f"{count} URLs, max_workers={workers}"
        results = _call(run, download_all, server, workers, what)
        _check_all_present(run, results, server, what)
        wrong = [u for u in server.urls if results[u] != content(u)]
        run.check(not wrong, f"download_all({what}) maps {wrong[0]} to {results[wrong[0]]!r}, not "
                             "to what fetch returned for it" if wrong else "", verdict="wrong")
        run.check(server.fetches == count,
                  f"download_all({what}) called fetch {plural(server.fetches, 'time')} for "
                  f"{plural(count, 'URL')}: fetch each URL once", verdict="wrong")

    engine.explore(scenario, schedules=exercise.params["present"]["schedules"],
                   max_steps=MAX_STEPS).assert_ok()


def test_failed_download_is_its_value(student, engine, exercise):
    """A fetch that raises: its URL maps to the exception, every other URL still arrives."""
    download_all = _download_all(student)
    count, workers = exercise.params["failures"]["urls"], exercise.params["failures"]["workers"]

    def scenario(run):
        all_urls = urls(count)
        failing = {all_urls[1], all_urls[-2]}  # one early, one late
        server = Server(run, {url: 0.1 * (1 + i % 2) for i, url in enumerate(all_urls)}, failing)
        what = f"{count} URLs of which 2 fail, max_workers={workers}"
        try:
            results = download_all(server.urls, server.fetch, workers)
        except ConnectionError as exc:
            run.check(False, f"download_all({what}) raised the error of one download "
                             f"(ConnectionError: {exc}): a failed download must be that URL's "
                             "value in the result, and the other URLs must still complete",
                      verdict="wrong")
        _check_all_present(run, results, server, what)
        for url in sorted(failing):
            value = results[url]
            run.check(isinstance(value, ConnectionError) and url in str(value),
                      f"fetch({url!r}) raised ConnectionError, but download_all({what}) maps it to "
                      f"{value!r}: the value of a failed URL is the exception its fetch raised",
                      verdict="wrong")
        wrong = [u for u in server.urls if u not in failing and results[u] != content(u)]
        run.check(not wrong, (f"download_all({what}) maps {wrong[0]} to {results[wrong[0]]!r}: the "
                              "downloads that succeeded must keep their content") if wrong else "",
                  verdict="wrong")

    engine.explore(scenario, schedules=exercise.params["failures"]["schedules"],
                   max_steps=MAX_STEPS).assert_ok()


def test_never_more_than_max_workers(student, engine, exercise):
    """Never more than max_workers fetches run at the same time."""
    download_all = _download_all(student)
    count, workers = exercise.params["limit"]["urls"], exercise.params["limit"]["workers"]

    def scenario(run):
        server = Server(run, {url: 0.5 for url in urls(count)}, max_workers=workers)
        what = f"{count} URLs, max_workers={workers}"
        results = _call(run, download_all, server, workers, what)
        _check_all_present(run, results, server, what)

    engine.explore(scenario, schedules=exercise.params["limit"]["schedules"],
                   max_steps=MAX_STEPS).assert_ok()


def _check_speed(run, download_all, latencies, workers, describe):
    server = Server(run, {url: latency for url, latency in zip(urls(len(latencies)), latencies)})
    what = f"{len(latencies)} URLs, max_workers={workers}"
    start = run.now()
    results = _call(run, download_all, server, workers, what)
    took = run.now() - start
    _check_all_present(run, results, server, what)
    ideal = ideal_time(latencies, workers)
    serial = sum(latencies)
    run.check(took <= ideal * 1.02 + 0.01,
              f"{describe} took {took:.1f} s with max_workers={workers}; the ideal is "
              f"{ideal:.1f} s (one after the other: {serial:.1f} s). At most "
              f"{plural(server.most_active, 'download')} ran at the same time",
              verdict="serial" if server.most_active <= 1 else "too_slow",
              took=round(took, 3), ideal=round(ideal, 3), serial=round(serial, 3),
              speedup=round(serial / took, 2) if took else None, most_at_once=server.most_active)
    return took, ideal, serial, server.most_active


def _record_speed(record_property, seen, describe, workers):
    """A passing speed test tells the student what was measured: the slowest schedule."""
    took, ideal, serial, most = max(seen)
    record_property("note", f"{describe} took {took:.1f} s of virtual time with "
                            f"max_workers={workers} ({serial / took:.1f}x faster than one "
                            f"after the other; the ideal is {ideal:.1f} s)")
    record_property("details", {"figures": {
        "took (virtual s, slowest schedule)": round(took, 3), "ideal (s)": round(ideal, 3),
        "one after the other (s)": round(serial, 3), "most downloads at once": most}})


def test_speedup_near_max_workers(student, engine, exercise, record_property):
    """8 downloads of 1 s with max_workers=4 take 2 s: a speedup of max_workers."""
    download_all = _download_all(student)
    count, workers = exercise.params["speedup"]["urls"], exercise.params["speedup"]["workers"]
    describe, seen = f"{count} downloads of 1 s", []

    def scenario(run):
        seen.append(_check_speed(run, download_all, [1.0] * count, workers, describe))

    # Virtual time makes the duration exact on every schedule: a few schedules suffice.
    engine.explore(scenario, schedules=exercise.params["speedup"]["schedules"],
                   max_steps=MAX_STEPS).assert_ok()
    _record_speed(record_property, seen, describe, workers)


def test_slow_download_does_not_hold_up_others(student, engine, exercise, record_property):
    """One slow file: the other workers keep fetching the rest meanwhile."""
    download_all = _download_all(student)
    latencies, workers = exercise.params["uneven"]["latencies"], exercise.params["uneven"]["workers"]
    describe, seen = f"{len(latencies)} downloads taking {', '.join(f'{x:g}' for x in latencies)} s", []

    def scenario(run):
        seen.append(_check_speed(run, download_all, latencies, workers, describe))

    engine.explore(scenario, schedules=exercise.params["uneven"]["schedules"],
                   max_steps=MAX_STEPS).assert_ok()
    _record_speed(record_property, seen, describe, workers)
