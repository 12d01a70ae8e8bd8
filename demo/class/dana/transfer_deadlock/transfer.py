import threading


class Account:
    def __init__(self, number: int, balance: int) -> None:
        self.number = number
        self.balance = balance
        self.lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Account(number={self.number}, balance={self.balance})"


def transfer(src: Account, dst: Account, amount: int) -> None:
    if src is dst:
        return
    # lock in a global order (account number) so there is no cycle
    low, high = sorted((src, dst), key=lambda account: account.number)
    with low.lock, high.lock:
        src.balance -= amount
        dst.balance += amount
