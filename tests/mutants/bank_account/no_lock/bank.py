import threading


class InsufficientFunds(Exception):
    pass


class Account:
    def __init__(self, balance=0):
        self._balance = balance

    @property
    def balance(self):
        return self._balance

    def deposit(self, amount):
        self._balance += amount

    def withdraw(self, amount):
        if self._balance < amount:
            raise InsufficientFunds(amount)
        self._balance -= amount
