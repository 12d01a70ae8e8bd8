import threading


class _Entry:
    def __init__(self):
        self.done = threading.Event()
        self.value = None
        self.error = None


class OnceCache:
    def __init__(self, load):
        self._load = load
        self._entries = {}
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            entry = self._entries.get(key)
            loader = entry is None
            if loader:
                entry = self._entries[key] = _Entry()
        if loader:
            try:
                entry.value = self._load(key)
            except Exception as exc:
                entry.error = exc  # kept for good: every later get raises it again
            entry.done.set()
        else:
            entry.done.wait()
        if entry.error is not None:
            raise entry.error
        return entry.value
