"""Analysis jobs sharing detector channels: the reference solution.

Why the stub freezes: every philosopher takes its left fork, then waits for its right
one. If all of them take their left fork at the same moment, philosopher i waits for
fork i + 1, held by philosopher i + 1, who waits for fork i + 2, ... round the table back
to philosopher i: a cycle of waits, a deadlock.

The fix is resource ordering: number the forks and let every philosopher take the
lower-numbered of its two forks first. Philosophers 0 .. n-2 still take left then right,
but the last one (forks n-1 and 0) takes fork 0 first, so the waits can never close a
circle. Unlike a global lock, or a "waiter" that seats only n - 1 at a time and can
still make a free philosopher wait, every fork is locked on its own: philosophers who are
not neighbours eat at the same time.
"""
import threading
from typing import Callable


def dine(n: int, meals: int, eat: Callable[[int], None]) -> None:
    """Run n philosophers, each eating `meals` times; return when all have finished."""
    forks = [threading.Lock() for _ in range(n)]  # fork i: the lock of channel i

    def philosopher(i: int) -> None:
        # Lowest number first, the same global order for every philosopher.
        first, second = sorted((i, (i + 1) % n))
        for _ in range(meals):
            with forks[first]:
                if second == first:  # n == 1: one fork serves as both
                    eat(i)
                    continue
                with forks[second]:
                    eat(i)  # both forks held: neither neighbour can be eating

    threads = [threading.Thread(target=philosopher, args=(i,), name=f"philosopher {i}")
               for i in range(n)]
    for thread in threads:
        thread.start()
    # dine() returns only when every philosopher has eaten all its meals.
    for thread in threads:
        thread.join()
