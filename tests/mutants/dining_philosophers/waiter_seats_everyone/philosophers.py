import threading
from typing import Callable


def dine(n: int, meals: int, eat: Callable[[int], None]) -> None:
    forks = [threading.Lock() for _ in range(n)]
    waiter = threading.Semaphore(n)  # should be n - 1: with n seats, all can take their left fork

    def philosopher(i: int) -> None:
        left, right = forks[i], forks[(i + 1) % n]
        for _ in range(meals):
            with waiter:
                with left:
                    with right:
                        eat(i)

    threads = [threading.Thread(target=philosopher, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
