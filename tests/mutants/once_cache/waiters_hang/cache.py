import threading


class OnceCache:
    def __init__(self, load):
        self._load = load
        self._values = {}
        self._loading = {}
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            if key in self._values:
                return self._values[key]
            event = self._loading.get(key)
            loader = event is None
            if loader:
                event = self._loading[key] = threading.Event()
        if not loader:
            event.wait()
            with self._lock:
                return self._values[key]
        try:
            value = self._load(key)
        except Exception:
            with self._lock:
                del self._loading[key]
            raise  # the waiters are never woken
        with self._lock:
            self._values[key] = value
            del self._loading[key]
        event.set()
        return value
