"""The beam-time budget of the experiment: hours of beam, shared by every analysis group.

The run coordinator deposits the hours the accelerator grants us; every group's booking
thread withdraws the hours of its shifts. Nobody may book hours we do not have. This
version checks the balance and then takes the hours: it works with one booking thread,
and with several, once in a while, it books hours that are not there. Fix it (README.md).
"""
import threading


class InsufficientFunds(Exception):
    """A withdrawal asked for more hours than the budget holds."""


class Account:
    def __init__(self, balance: int = 0) -> None:
        self._balance = balance
        self._lock = threading.Lock()

    @property
    def balance(self) -> int:
        with self._lock:
            return self._balance

    def deposit(self, amount: int) -> None:
        with self._lock:
            self._balance += amount

    def withdraw(self, amount: int) -> None:
        # Check ...
        if self._balance < amount:
            raise InsufficientFunds(f"cannot withdraw {amount}: the balance is {self._balance}")
        # ... then act. Is the balance we checked still the balance here?
        with self._lock:
            self._balance -= amount
