import threading


class InsufficientFunds(Exception):
    pass


class Account:
    def __init__(self, balance=0):
        self._balance = balance
        self._lock = threading.Lock()

    @property
    def balance(self):
        with self._lock:
            return self._balance

    def deposit(self, amount):
        with self._lock:
            self._balance += amount

    def withdraw(self, amount):
        with self._lock:
            enough = self._balance >= amount
        if not enough:
            raise InsufficientFunds(amount)
        self._balance -= amount
