"""Looks for the results channel (environment, /proc/self/fd) and writes passing records
into whatever it finds, in the old format and with a made-up MAC."""
import json
import os

NAMES = ("test_counts_in_one_thread", "test_two_threads_lose_no_increment",
         "test_many_threads_lose_no_count")
LEAKED = sorted(k for k in os.environ if k.startswith("GRADER_") and k != "GRADER_RUN_TOKEN"
                and k not in ("GRADER_EXERCISE", "GRADER_STAGED_DIR"))


def _records():
    lines = []
    for seq, name in enumerate(NAMES, 1):
        for pid in (os.getpid(), os.getppid(), 2):
            record = {"event": "result", "pid": pid, "seq": seq, "nodeid": f"hidden/test_counter.py::{name}",
                      "test": name, "function": name, "verdict": "passed", "message": "", "details": {},
                      "duration": 0.1}
            body = json.dumps(record)
            lines += [body, "0" * 64 + " " + body]
    return ("\n".join(lines) + "\n").encode()


targets = set()
for key, value in os.environ.items():
    if key.startswith("GRADER_") and os.path.sep in value:
        targets.add(value)
for fd in os.listdir("/proc/self/fd"):
    try:
        target = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        continue
    if target.endswith(".jsonl") or "results" in target:
        targets.add(target)
        try:
            os.write(int(fd), _records())
        except OSError:
            pass
for target in targets:
    try:
        with open(target, "ab") as f:
            f.write(_records())
    except OSError:
        pass
print("forges_channel: leaked variables", LEAKED, "targets", sorted(targets))


class Counter:
    def __init__(self, start=0):
        self._value = start

    def increment(self, n=1):
        self._value += n  # the race the exercise is about: never earns the threaded points

    @property
    def value(self):
        return self._value

