"""The beam-time ledger: the reference solution.

Why the stub freezes: a transfer 1 -> 2 takes lock 1 then waits for lock 2, while a
transfer 2 -> 1 takes lock 2 then waits for lock 1. Each holds what the other needs and
neither lets go: a deadlock. It needs a cycle of threads each waiting for the next, and
there can be no cycle if every thread takes its locks in one agreed order. So we always
lock the account with the smaller number first, whichever way the credits flow.
"""
import threading


class Account:
    def __init__(self, number: int, balance: int) -> None:
        self.number = number  # unique at the facility: the order in which we lock
        self.balance = balance  # shift credits; may go negative (no overdraft check here)
        self.lock = threading.Lock()  # guards balance

    def __repr__(self) -> str:
        return f"Account(number={self.number}, balance={self.balance})"


def transfer(src: Account, dst: Account, amount: int) -> None:
    """Move `amount` credits from `src` to `dst`, safe from any number of threads."""
    if src is dst:
        # Moving credits from an account to itself changes nothing. Locking src and then
        # dst would wait for a lock this thread already holds, and a threading.Lock is not
        # reentrant: it would wait forever.
        return
    # One global order for everybody: lowest account number first. Numbers are unique,
    # so any two accounts are always locked in the same order by every thread.
    first, second = sorted((src, dst), key=lambda account: account.number)
    # Both locks are held while both balances change, so no other transfer can touch
    # either account halfway through, and credits are never lost or created. Only these
    # two accounts are locked: transfers between other accounts go ahead meanwhile.
    with first.lock, second.lock:
        src.balance -= amount
        dst.balance += amount
