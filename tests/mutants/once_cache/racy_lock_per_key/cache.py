import threading


class OnceCache:
    def __init__(self, load):
        self._load = load
        self._values = {}
        self._locks = {}

    def get(self, key):
        # Check-then-insert without a lock: two threads can each make a lock for the key.
        if key not in self._locks:
            self._locks[key] = threading.Lock()
        with self._locks[key]:
            if key not in self._values:
                self._values[key] = self._load(key)
            return self._values[key]
