"""The beam-time ledger: experiment accounts trade shift credits.

Any number of booking threads call `transfer()` at once. This version is careful to lock
both accounts before moving credits, and yet the ledger freezes now and then: fix it
(see README.md).
"""
import threading


class Account:
    def __init__(self, number: int, balance: int) -> None:
        self.number = number  # unique at the facility
        self.balance = balance  # shift credits; may go negative (no overdraft check here)
        self.lock = threading.Lock()  # guards balance

    def __repr__(self) -> str:
        return f"Account(number={self.number}, balance={self.balance})"


def transfer(src: Account, dst: Account, amount: int) -> None:
    """Move `amount` credits from `src` to `dst`."""
    with src.lock:
        with dst.lock:
            src.balance -= amount
            dst.balance += amount
