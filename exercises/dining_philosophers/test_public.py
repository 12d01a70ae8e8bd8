"""Tests you can run yourself: `python -m pytest test_public.py` in this folder.

They are not the whole story. The threaded tests run real threads with a slow `eat`, and a
dinner that hangs is cut off after a few seconds and reported. The grader goes further: it
runs your philosophers under a controlled scheduler on many interleavings, so a deadlock
that these tests happen to miss is still found, and it checks that philosophers who share
no fork eat at the same time.
"""
import threading
import time

from philosophers import dine


def run_dinner(n, meals, eat_seconds=0.001, seconds=5.0):
    """dine(n, meals, eat) in a daemon thread (a deadlocked dinner cannot keep pytest from
    exiting). Returns the meals eaten per philosopher and the neighbours seen eating at once."""
    meals_eaten = [0] * n
    eating = set()
    clashes = []
    guard = threading.Lock()

    def eat(i):
        with guard:
            for other in ((i - 1) % n, (i + 1) % n):
                if other in eating:
                    clashes.append((min(i, other), max(i, other)))
            eating.add(i)
            meals_eaten[i] += 1
        time.sleep(eat_seconds)  # a meal takes a moment: the others grab forks meanwhile
        with guard:
            eating.discard(i)

    dinner = threading.Thread(target=dine, args=(n, meals, eat), daemon=True)
    dinner.start()
    dinner.join(seconds)
    assert not dinner.is_alive(), (
        f"dine({n}, {meals}, eat) did not return within {seconds} s: a deadlock? (every "
        "philosopher holding one fork and waiting for the next)")
    return meals_eaten, clashes


def test_one_philosopher_pair_eats():
    meals, clashes = run_dinner(2, 3)
    assert meals == [3, 3]
    assert not clashes, f"neighbours ate at the same time: {clashes}"


def test_five_philosophers_each_eat_exactly_meals():
    meals, clashes = run_dinner(5, 20)
    assert meals == [20] * 5, f"meals eaten per philosopher: {meals}, expected 20 each"
    assert not clashes, f"neighbours ate at the same time: {sorted(set(clashes))}"


def test_many_dinners_end():
    # Many short dinners with no pause: each is a new chance for everyone to hold one fork.
    for _ in range(200):
        meals, _ = run_dinner(3, 2, eat_seconds=0)
        assert meals == [2, 2, 2]
