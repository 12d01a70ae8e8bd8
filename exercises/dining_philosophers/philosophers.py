"""Analysis jobs sharing detector channels: the dining philosophers of the counting room.

Job `i` calibrates the boundary between channels `i` and `(i + 1) % n`, so it needs both
channels' read-out locks (its "forks") while it works (`eat(i)`). This version works
most of the time, and once in a while every job freezes for good: fix it (see README.md).
"""
import threading
from typing import Callable


def dine(n: int, meals: int, eat: Callable[[int], None]) -> None:
    """Run n philosophers, each eating `meals` times; return when all have finished."""
    forks = [threading.Lock() for _ in range(n)]  # fork i: the lock of channel i

    def philosopher(i: int) -> None:
        left, right = forks[i], forks[(i + 1) % n]
        for _ in range(meals):
            with left:  # every philosopher takes the left fork first...
                with right:  # ...then waits for the right one
                    eat(i)

    threads = [threading.Thread(target=philosopher, args=(i,), name=f"philosopher {i}")
               for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
