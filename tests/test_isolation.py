"""The pieces of the "user" mode that this machine can run whatever its interpreter:
a cgroup that kills a setsid daemon, the kill by user id, the shared /tmp cleanup, and
the hand-over of a staged copy. (The whole mode, end to end, is in tests/hostile/
test_machine.py, where the machine offers it.)"""
from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from grader import isolation

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="switching users needs root")
SLEEP = "/bin/sleep" if os.path.exists("/bin/sleep") else "/usr/bin/sleep"


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


@needs_root
def test_the_kill_by_user_id_finds_a_daemon_in_another_session() -> None:
    uid = isolation.take_uid("user")
    try:
        proc = subprocess.Popen([SLEEP, "600"], user=uid, group=uid, extra_groups=[],
                                start_new_session=True)
        assert alive(proc.pid)
        isolation.kill_user(uid)
        proc.wait(timeout=5)
        assert not alive(proc.pid)
    finally:
        isolation.give_back_uid(uid)


@pytest.mark.skipif(isolation._cgroup_parent() is None, reason="no cgroup v2 the grader may write")
def test_a_cgroup_kills_what_left_the_session() -> None:
    cgroup = isolation.Cgroup()
    assert cgroup.path is not None
    # A shell that starts a setsid sleeper and reports its pid, then waits.
    proc = subprocess.Popen(["sh", "-c", f"read go; setsid {SLEEP} 600 & echo $!; wait"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    cgroup.add(proc.pid)  # as the grader does: before the child has started anything
    proc.stdin.write(b"go\n")
    proc.stdin.close()
    daemon = int(proc.stdout.readline())
    time.sleep(0.1)
    assert alive(daemon) and daemon in {p.pid for p in psutil.process_iter()}
    cgroup.kill()
    proc.wait(timeout=5)
    proc.stdout.close()
    for _ in range(100):
        if not alive(daemon):
            break
        time.sleep(0.02)
    assert not alive(daemon)
    cgroup.remove()
    assert cgroup.path is None


@needs_root
def test_shared_tmp_is_cleaned_of_the_users_files_only(tmp_path: Path) -> None:
    uid = isolation.take_uid("user")
    mine, theirs = Path(f"/tmp/grader-test-left-{os.getpid()}"), Path(f"/tmp/grader-test-kept-{os.getpid()}")
    try:
        mine.mkdir()
        (mine / "big").write_bytes(b"\0" * 1000)
        os.chown(mine, uid, uid)
        theirs.write_text("not the student's\n")
        isolation.clean_shared_tmp(uid)
        assert not mine.exists() and theirs.exists()
    finally:
        isolation.give_back_uid(uid)
        theirs.unlink(missing_ok=True)


@needs_root
def test_the_staged_copy_becomes_the_test_users_alone(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    staged = run_dir / "staged"
    (staged / "hidden").mkdir(parents=True)
    (staged / "hidden" / "test_x.py").write_text("")
    (run_dir / "results-1.jsonl").write_text("")
    uid = isolation.take_uid("user")
    try:
        isolation.hand_over(staged, run_dir, uid)
        assert (staged / "hidden" / "test_x.py").stat().st_uid == uid
        assert staged.stat().st_mode & 0o777 == 0o700  # another run's user cannot read it
        assert run_dir.stat().st_mode & 0o777 == 0o711 and (run_dir / "results-1.jsonl").stat().st_uid == 0
    finally:
        isolation.give_back_uid(uid)


def test_user_ids_are_one_per_process_and_given_back() -> None:
    if os.geteuid() != 0:
        assert isolation.take_uid("user") == isolation.take_uid("user")  # there is no pool without root
    taken = [isolation.take_uid("user") for _ in range(3)]
    try:
        assert len(set(taken)) == 3 and all(u >= 240_000 for u in taken)
    finally:
        for uid in taken:
            isolation.give_back_uid(uid)
    assert isolation.take_uid("plain") is None
