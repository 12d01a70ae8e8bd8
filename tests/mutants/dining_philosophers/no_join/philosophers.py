import threading
from typing import Callable


def dine(n: int, meals: int, eat: Callable[[int], None]) -> None:
    forks = [threading.Lock() for _ in range(n)]

    def philosopher(i: int) -> None:
        first, second = sorted((i, (i + 1) % n))
        for _ in range(meals):
            with forks[first], forks[second]:
                eat(i)

    for i in range(n):  # started, but dine() returns without waiting for them
        threading.Thread(target=philosopher, args=(i,)).start()
