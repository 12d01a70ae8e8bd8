"""An alternative reference: a waiter (a semaphore) seats at most n - 1 philosophers.

With n - 1 at the table, at least one of them finds both forks free, so the waits can
never close a circle round the table, even though everyone takes the left fork first.
"""
import threading
from typing import Callable


def dine(n: int, meals: int, eat: Callable[[int], None]) -> None:
    forks = [threading.Lock() for _ in range(n)]
    waiter = threading.Semaphore(max(1, n - 1))

    def philosopher(i: int) -> None:
        left, right = forks[i], forks[(i + 1) % n]
        for _ in range(meals):
            with waiter:
                with left:
                    if right is left:  # n == 1
                        eat(i)
                        continue
                    with right:
                        eat(i)

    threads = [threading.Thread(target=philosopher, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
