import threading


class OnceCache:
    def __init__(self, load):
        self._load = load
        self._values = {}
        self._lock = threading.Lock()

    def get(self, key):
        # Safe, but a load of one key makes every other key wait.
        with self._lock:
            if key not in self._values:
                self._values[key] = self._load(key)
            return self._values[key]
