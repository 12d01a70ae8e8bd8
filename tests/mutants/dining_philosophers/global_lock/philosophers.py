import threading
from typing import Callable

_table = threading.Lock()  # one lock for the whole table


def dine(n: int, meals: int, eat: Callable[[int], None]) -> None:
    def philosopher(i: int) -> None:
        for _ in range(meals):
            with _table:
                eat(i)

    threads = [threading.Thread(target=philosopher, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
