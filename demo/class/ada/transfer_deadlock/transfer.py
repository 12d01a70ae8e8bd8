"""The beam-time ledger without the freeze: locks are always taken in account order."""
import threading


class Account:
    def __init__(self, number: int, balance: int) -> None:
        self.number = number
        self.balance = balance
        self.lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Account(number={self.number}, balance={self.balance})"


def transfer(src: Account, dst: Account, amount: int) -> None:
    """Move `amount` credits from `src` to `dst`."""
    if src is dst:
        # Moving credits to the same account changes nothing, and locking it twice
        # would wait forever on a non-reentrant lock.
        return
    # Every thread locks the lower account number first, so no two threads can each
    # hold one lock of a pair while waiting for the other.
    first, second = (src, dst) if src.number < dst.number else (dst, src)
    with first.lock:
        with second.lock:
            src.balance -= amount
            dst.balance += amount
