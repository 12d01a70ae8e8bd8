"""The audit hook (grader/guard.py) in a process of its own: who it blames, and that it
kills before a frame walk returns. The hostile suite shows the same through the grader."""
from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SETUP = """
import sys
from pathlib import Path
from grader import guard
staged = Path(sys.argv[1])
guard.install(staged, set(), lambda reason: print("TAMPERED:", reason, flush=True))
sys.path.insert(0, str(staged))
import student
student.main()
print("RETURNED", flush=True)
"""


def run(tmp_path: Path, student: str) -> subprocess.CompletedProcess[str]:
    staged = tmp_path / "staged"
    staged.mkdir()
    (staged / "student.py").write_text(textwrap.dedent(student))
    return subprocess.run([sys.executable, "-c", SETUP, str(staged)], capture_output=True, text=True,
                          timeout=60, cwd=tmp_path)


@pytest.mark.parametrize("walk, what", [
    ("sys._getframe(1).f_locals", "sys._getframe"),
    ("sys._getframe().f_back", "sys._getframe"),
    ("inspect.stack()", "sys._getframe"),
    ("inspect.currentframe()", "sys._getframe"),
    ("sys._current_frames()", "sys._current_frames"),
    ("gc.get_referrers(main)", "gc.get_referrers"),
    ("gc.get_objects()", "gc.get_objects"),
    ("sys.exc_info()[2].tb_frame if sys.exc_info()[2] else (_ for _ in ()).gi_frame", "reading .gi_frame"),
])
def test_a_frame_walk_kills_before_it_returns(tmp_path: Path, walk: str, what: str) -> None:
    done = run(tmp_path, f"""
        import gc, inspect, sys
        def main():
            {walk}
    """)
    assert done.returncode == -signal.SIGKILL, done
    assert f"TAMPERED: your code reached into the frames of the code that tests it ({what}" in done.stdout
    assert "RETURNED" not in done.stdout


def test_what_reads_frames_for_itself_is_not_a_walk(tmp_path: Path) -> None:
    done = run(tmp_path, """
        import dataclasses, logging, traceback, typing, warnings, collections
        import asyncio, concurrent.futures, multiprocessing, json, enum, functools, email.mime.text
        logging.basicConfig(level=logging.INFO)
        def main():
            logging.getLogger("x").info("hello")
            warnings.warn("careful")
            traceback.format_stack()
            try:
                1 / 0
            except ZeroDivisionError:
                traceback.format_exc()
            dataclasses.make_dataclass("P", ["x"])
            collections.namedtuple("Q", "a b")
            typing.NamedTuple("R", [("a", int)])
            exec(compile("y = 1", "<mine>", "exec"), {})
            enum.Enum("Colour", "RED GREEN")
            functools.lru_cache()(lambda: 1)()
            asyncio.run(asyncio.sleep(0))
    """)
    assert done.returncode == 0 and "TAMPERED" not in done.stdout, done
    assert "RETURNED" in done.stdout


def test_code_the_student_makes_is_the_students(tmp_path: Path) -> None:
    done = run(tmp_path, """
        import types
        from grader.guard import STUDENT_CODES
        def main():
            ns = {}
            exec(compile("def f():\\n    return 1\\n", "<elsewhere>", "exec"), ns)
            g = types.FunctionType(compile("x = 2", "<other>", "exec"), {})
            def h():
                return 3
            h.__code__ = h.__code__.replace(co_filename="<nowhere>")
            made = [ns["f"].__code__, g.__code__, h.__code__]
            print("REGISTERED", [id(c) in STUDENT_CODES for c in made], flush=True)
    """)
    assert "REGISTERED [True, True, True]" in done.stdout, done


def test_code_claiming_a_grader_file_is_tampering(tmp_path: Path) -> None:
    import grader.testing
    done = run(tmp_path, f"""
        def main():
            compile("x = 1", {grader.testing.__file__!r}, "exec")
    """)
    assert done.returncode == -signal.SIGKILL and "claims to be testing.py" in done.stdout, done
