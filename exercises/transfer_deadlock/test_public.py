"""Tests you can run yourself: `python -m pytest test_public.py` in this folder.

They are not the whole story. The threaded tests below give each account a lock that
dawdles a moment after it is taken, so that a deadlock which ordinary CPython shows only
once in a while shows up at once; a run that hangs is cut off after a few seconds and
reported. The grader goes further: it runs your transfers under a controlled scheduler
on hundreds of schedules, checks that no credit is ever lost, looks for locks taken in
inconsistent orders even when nothing happened to hang, and checks that transfers between
unrelated accounts do not wait for each other.
"""
import threading
import time

from transfer import Account, transfer


def test_transfer_moves_amount():
    a, b = Account(1, 100), Account(2, 50)
    transfer(a, b, 30)
    assert (a.balance, b.balance) == (70, 80)
    transfer(b, a, 80)
    assert (a.balance, b.balance) == (150, 0)


def test_each_account_has_its_own_lock():
    a, b = Account(1, 0), Account(2, 0)
    assert a.number == 1 and b.balance == 0
    assert a.lock is not b.lock, "every account needs a lock of its own"


class DawdlingLock:
    """A threading.Lock that waits a millisecond after being taken: any other thread gets
    the chance to run right after, which is when a badly ordered transfer gets stuck."""

    def __init__(self):
        self._lock = threading.Lock()

    def acquire(self, blocking=True, timeout=-1):
        taken = self._lock.acquire(blocking, timeout)
        if taken:
            time.sleep(0.001)
        return taken

    def release(self):
        self._lock.release()

    def locked(self):
        return self._lock.locked()

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()


def open_accounts(*balances):
    accounts = [Account(number, balance) for number, balance in enumerate(balances, start=1)]
    for account in accounts:
        account.lock = DawdlingLock()
    return accounts


def run_transfers(*bookings, rounds=20, seconds=5.0):
    """One thread per (src, dst, amount) making `rounds` transfers. The threads are
    daemons, so that a deadlocked pair cannot keep pytest from exiting."""
    def booking(src, dst, amount):
        for _ in range(rounds):
            transfer(src, dst, amount)

    threads = [threading.Thread(target=booking, args=b, daemon=True) for b in bookings]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + seconds
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    stuck = sum(thread.is_alive() for thread in threads)
    assert not stuck, (f"{stuck} of {len(threads)} transfer threads still waiting after "
                       f"{seconds} s: a deadlock (a thread waits for a lock that it, or another "
                       "waiting thread, holds)")


def test_opposite_transfers_finish():
    a, b = open_accounts(100, 100)
    run_transfers((a, b, 10), (b, a, 7))
    assert (a.balance, b.balance) == (100 - 20 * 3, 100 + 20 * 3)


def test_transfer_to_itself_changes_nothing():
    (a,) = open_accounts(100)
    run_transfers((a, a, 30), rounds=1)
    assert a.balance == 100
