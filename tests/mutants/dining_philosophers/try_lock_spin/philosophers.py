import threading
from typing import Callable


def dine(n: int, meals: int, eat: Callable[[int], None]) -> None:
    forks = [threading.Lock() for _ in range(n)]

    def philosopher(i: int) -> None:
        left, right = forks[i], forks[(i + 1) % n]
        for _ in range(meals):
            while True:  # hold the left fork, try the right; put both back and retry at once
                left.acquire()
                if right.acquire(blocking=False):
                    break
                left.release()
            eat(i)
            right.release()
            left.release()

    threads = [threading.Thread(target=philosopher, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
