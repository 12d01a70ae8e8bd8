import threading


class Account:
    def __init__(self, number: int, balance: int) -> None:
        self.number = number
        self.balance = balance
        self.lock = threading.Lock()


_ledger_lock = threading.Lock()  # one lock for every transfer in the facility


def transfer(src: Account, dst: Account, amount: int) -> None:
    with _ledger_lock:
        src.balance -= amount
        dst.balance += amount
