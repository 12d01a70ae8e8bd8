"""Tests you can run yourself: `python -m pytest test_public.py` in this folder.

They are not the whole story. The threaded tests below use amounts that are slow to
compare and to add, so that the gaps between a check and an act, or between reading the
balance and writing it back, are wide enough for ordinary CPython to show a race. The
grader goes further: it runs your code under a controlled scheduler that may switch
threads between any two bytecodes of bank.py, on hundreds of schedules.
"""
import threading
import time

import pytest

from bank import Account, InsufficientFunds


def test_starts_at_zero_or_at_balance():
    assert Account().balance == 0
    assert Account(70).balance == 70


def test_deposit_and_withdraw():
    account = Account(70)
    account.deposit(30)
    account.withdraw(60)
    assert account.balance == 40
    account.withdraw(40)  # the whole balance: allowed
    assert account.balance == 0


def test_refused_withdrawal_raises_and_changes_nothing():
    account = Account(20)
    with pytest.raises(InsufficientFunds):
        account.withdraw(50)
    assert account.balance == 20


class SlowHours(int):
    """A number of hours that takes a moment to compare and to add or subtract.

    SlowHours is a subclass of int, so in `balance < hours` or `balance - hours` Python asks
    SlowHours first (its reflected method): the sleep happens while your code is between
    reading the balance and acting on it, and another thread gets to run right then."""

    def _pause(self):
        time.sleep(0.0005)

    def __gt__(self, other):  # balance < hours
        self._pause()
        return int(self) > int(other)

    def __lt__(self, other):  # balance > hours
        self._pause()
        return int(self) < int(other)

    def __ge__(self, other):  # balance <= hours
        self._pause()
        return int(self) >= int(other)

    def __le__(self, other):  # balance >= hours
        self._pause()
        return int(self) <= int(other)

    def __rsub__(self, other):  # balance - hours
        self._pause()
        return int(other) - int(self)

    def __radd__(self, other):  # balance + hours
        self._pause()
        return int(other) + int(self)


def run_at_once(seconds, *targets):
    """Start one daemon thread per target together; False if they are not all done in time."""
    start = threading.Barrier(len(targets))

    def begin(target):
        start.wait()
        target()

    threads = [threading.Thread(target=begin, args=(t,), daemon=True) for t in targets]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + seconds
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return not any(thread.is_alive() for thread in threads)


def test_two_withdrawals_never_overdraw():
    for attempt in range(20):
        account = Account(70)
        granted = []

        def booking():
            try:
                account.withdraw(SlowHours(50))
            except InsufficientFunds:
                return
            granted.append(50)

        assert run_at_once(5, booking, booking), (
            "the withdrawals did not finish within 5 s: is a thread waiting for a lock it "
            "already holds (a threading.Lock is not reentrant)?")
        assert account.balance >= 0, (
            f"the balance went to {account.balance} after two withdrawals of 50 from 70 "
            f"(attempt {attempt + 1})")
        assert len(granted) == 1, f"{len(granted)} of two withdrawals of 50 from 70 went through"
        assert account.balance == 20


def test_deposits_lose_nothing_when_adding_is_slow():
    account = Account(100)
    threads, deposits = 4, 50

    def coordinator():
        for _ in range(deposits):
            account.deposit(SlowHours(1))

    assert run_at_once(10, *[coordinator] * threads), "the deposits did not finish within 10 s"
    lost = 100 + threads * deposits - account.balance
    assert lost == 0, f"lost {lost} of {threads * deposits} hours deposited by {threads} threads"
