"""The beam-time budget of the experiment: the reference solution.

Why the stub overbooks: `withdraw` checks the balance, then takes the hours. Between the
check and the subtraction another booking thread can pass the same check: with 70 hours
left, two groups each asking for 50 both see "70 >= 50", both subtract, and the budget
ends at -30. The lock around the subtraction alone does not help: the decision was taken
outside it, on a balance that may be stale by the time the lock is held. The check and the
act must be one critical section (check-then-act), so that no other thread can change the
balance between them.
"""
import threading


class InsufficientFunds(Exception):
    """A withdrawal asked for more hours than the budget holds."""


class Account:
    def __init__(self, balance: int = 0) -> None:
        self._balance = balance
        # One lock per account, made here once: every method that reads or writes the
        # balance takes this same lock.
        self._lock = threading.Lock()

    @property
    def balance(self) -> int:
        # Read under the lock: we see the balance between two operations, never inside one.
        with self._lock:
            return self._balance

    def deposit(self, amount: int) -> None:
        # `+=` is a read, an addition and a write: two deposits, or a deposit and a
        # withdrawal, must not interleave inside it, or hours are lost.
        with self._lock:
            self._balance += amount

    def withdraw(self, amount: int) -> None:
        """Take `amount` hours, or raise InsufficientFunds and leave the balance as it was."""
        with self._lock:
            # The check and the subtraction in one critical section: the balance we
            # checked is the balance we subtract from.
            if self._balance < amount:
                # Raising inside `with` releases the lock; nothing was changed.
                raise InsufficientFunds(f"cannot withdraw {amount}: the balance is {self._balance}")
            # Read self._balance, not self.balance: the property takes the lock again, and
            # a threading.Lock is not reentrant.
            self._balance -= amount
