import threading


class Account:
    def __init__(self, number: int, balance: int) -> None:
        self.number = number
        self.balance = balance
        self.lock = threading.Lock()


def transfer(src: Account, dst: Account, amount: int) -> None:
    # Only one lock held, so no deadlock: but dst.balance changes unprotected.
    with src.lock:
        src.balance -= amount
        dst.balance += amount
