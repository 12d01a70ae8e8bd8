import threading
from typing import Callable


def dine(n: int, meals: int, eat: Callable[[int], None]) -> None:
    forks = [threading.Lock() for _ in range(n)]

    def philosopher(i: int) -> None:
        first, second = forks[i], forks[(i + 1) % n]
        for _ in range(meals):
            while True:
                first.acquire()
                if second.acquire(blocking=False):
                    break
                first.release()  # put it back, and start with the other fork next time
                first, second = second, first
            eat(i)
            second.release()
            first.release()

    threads = [threading.Thread(target=philosopher, args=(i,), name=f"philosopher {i}")
               for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
