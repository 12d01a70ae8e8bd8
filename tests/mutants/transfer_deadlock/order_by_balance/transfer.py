import threading


class Account:
    def __init__(self, number: int, balance: int) -> None:
        self.number = number
        self.balance = balance
        self.lock = threading.Lock()


def transfer(src: Account, dst: Account, amount: int) -> None:
    if src is dst:
        return
    # Poorer account first: but balances change, and ties keep the caller's order, so
    # two threads can disagree about which account comes first.
    first, second = (src, dst) if src.balance <= dst.balance else (dst, src)
    with first.lock:
        with second.lock:
            src.balance -= amount
            dst.balance += amount
