import threading


class InsufficientFunds(Exception):
    pass


class Account:
    def __init__(self, balance=0):
        self._balance = balance
        self._lock = threading.Lock()

    @property
    def balance(self):
        return self._balance

    def deposit(self, amount):
        # "Adding money can never overdraw, so it needs no lock."
        self._balance += amount

    def withdraw(self, amount):
        with self._lock:
            if self._balance < amount:
                raise InsufficientFunds(amount)
            self._balance -= amount
