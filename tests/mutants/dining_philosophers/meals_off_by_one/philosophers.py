import threading
from typing import Callable


def dine(n: int, meals: int, eat: Callable[[int], None]) -> None:
    forks = [threading.Lock() for _ in range(n)]

    def philosopher(i: int) -> None:
        first, second = sorted((i, (i + 1) % n))
        for _ in range(1, meals):  # one meal short
            with forks[first], forks[second]:
                eat(i)

    threads = [threading.Thread(target=philosopher, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
