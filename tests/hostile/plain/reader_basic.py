"""basic.py of a student who looks for classmates' files, the reference solutions and the
gradebook anywhere it can read (issue 17, item 6), and says what it found in the message
of test_add (an error), which the hostile suite reads back."""
import os
from pathlib import Path

SKIP = {"proc", "sys", "dev", "usr", ".venv", "site-packages", ".git", "node_modules", "__pycache__",
        ".pyenv", "lib", "bin", "share"}
WANTED = {"basic.py", "gradebook.sqlite", "classmate_marker.py"}
own = os.path.realpath(os.getcwd())
found = []
for folder, dirs, files in os.walk("/"):
    if folder.count(os.sep) > 7 or os.path.realpath(folder).startswith(own):
        dirs[:] = []
        continue
    dirs[:] = [d for d in dirs if d not in SKIP]
    for name in files:
        if name in WANTED:
            try:
                with open(os.path.join(folder, name), "rb") as f:
                    f.read(1)
                found.append(os.path.join(folder, name))
            except OSError:
                pass


# The class the hostile suite grades lives in a folder named hostile-class-<pid>.
classmates = [f for f in found if "hostile-class-" in f]


def add(a, b):
    raise RuntimeError(f"found {len(found)} readable ({len(classmates)} of the class): "
                       f"{sorted(classmates)[:3] or sorted(found)[:3]}")


def sub(a, b):
    return a - b


def double(x):
    return 2 * x
