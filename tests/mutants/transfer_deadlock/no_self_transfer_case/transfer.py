import threading


class Account:
    def __init__(self, number: int, balance: int) -> None:
        self.number = number
        self.balance = balance
        self.lock = threading.Lock()


def transfer(src: Account, dst: Account, amount: int) -> None:
    first, second = sorted((src, dst), key=lambda account: account.number)
    with first.lock:
        with second.lock:
            src.balance -= amount
            dst.balance += amount
