"""Hidden tests of transfer_deadlock: transfers never deadlock, never lose a credit, and
lock only the two accounts involved.

Every threaded check runs the student's transfer() under the controlled scheduler, which
may switch threads between any two bytecodes of transfer.py and at every lock operation.
A schedule on which no thread can move is a deadlock, reported with its cycle of waits.
Even when no schedule happened to hang, taking two locks in one order in one place and in
the other order elsewhere is a deadlock waiting to happen: the engine's lock-order graph
finds it, and it fails the test as a potential deadlock.
"""
from grader.testing import check, fail, plural


def test_single_transfer_moves_amount(student, engine):
    """One thread: the amount leaves the source and arrives at the destination."""
    transfer, Account = _interface(student)

    def scenario(run):
        a, b, c = _open_accounts(run, Account, 100, 50, 0)
        transfer(a, b, 30)
        _check_balances(run, (a, b, c), (70, 80, 0), "after transfer(1 -> 2, 30)", "wrong")
        transfer(b, c, 80)  # from a higher number to a lower one, and back the other way
        _check_balances(run, (a, b, c), (70, 0, 80), "then transfer(2 -> 3, 80)", "wrong")
        transfer(c, a, 5)
        _check_balances(run, (a, b, c), (75, 0, 75), "then transfer(3 -> 1, 5)", "wrong")

    # One thread has nothing to interleave: a single schedule says it all.
    engine.explore(scenario, schedules=1).assert_ok()


def test_opposite_transfers_finish(student, engine, exercise):
    """1 -> 2 and 2 -> 1 at the same time: the textbook deadlock must not happen."""
    transfer, Account = _interface(student)
    rounds = exercise.params["rounds"]

    def scenario(run):
        a, b = _open_accounts(run, Account, 100, 100)
        _book(run, transfer, (a, b, 10), (b, a, 7), rounds=rounds)
        moved = 3 * rounds
        _check_balances(run, (a, b), (100 - moved, 100 + moved),
                        f"after {rounds} transfers 1 -> 2 of 10 and {rounds} transfers 2 -> 1 of 7")

    _assert_no_deadlock(engine.explore(scenario))


def test_ring_of_transfers_finishes(student, engine, exercise):
    """1 -> 2, 2 -> 3 and 3 -> 1 at the same time: a cycle of three must not deadlock either."""
    transfer, Account = _interface(student)
    rounds = exercise.params["rounds"]

    def scenario(run):
        accounts = _open_accounts(run, Account, 100, 100, 100)
        a, b, c = accounts
        _book(run, transfer, (a, b, 10), (b, c, 10), (c, a, 10), rounds=rounds)
        _check_balances(run, accounts, (100, 100, 100),
                        f"after {rounds} transfers of 10 each way round the ring 1 -> 2 -> 3 -> 1")

    _assert_no_deadlock(engine.explore(scenario))


def test_concurrent_payments_conserve_credits(student, engine, exercise):
    """Two accounts pay into a third at the same time: every credit paid in arrives."""
    transfer, Account = _interface(student)
    rounds = exercise.params["rounds"]

    def scenario(run):
        accounts = _open_accounts(run, Account, 100, 100, 100)
        a, b, c = accounts
        _book(run, transfer, (a, c, 10), (b, c, 10), rounds=rounds)
        paid = 10 * rounds
        _check_balances(run, accounts, (100 - paid, 100 - paid, 100 + 2 * paid),
                        f"after {rounds} payments 1 -> 3 and {rounds} payments 2 -> 3 of 10")

    _assert_no_deadlock(engine.explore(scenario))


def test_self_transfer_changes_nothing(student, engine, exercise):
    """transfer(a, a, x), even from two threads at once, returns and changes nothing."""
    transfer, Account = _interface(student)
    rounds = exercise.params["rounds"]

    def scenario(run):
        (a,) = _open_accounts(run, Account, 100)
        _book(run, transfer, (a, a, 30), (a, a, 5), rounds=rounds)
        _check_balances(run, (a,), (100,), "after transfers from account 1 to itself")

    # A thread waiting for a lock it holds itself is stuck on every schedule: a few do.
    _assert_no_deadlock(engine.explore(scenario, schedules=50))


def test_disjoint_transfers_run_in_parallel(student, engine, exercise):
    """1 -> 2 and 3 -> 4 share no account, so neither should wait for the other."""
    transfer, Account = _interface(student)
    rounds = exercise.params["rounds"]

    def scenario(run):
        accounts = _open_accounts(run, Account, 100, 100, 100, 100)
        a, b, c, d = accounts
        _book(run, transfer, (a, b, 10), (c, d, 10), rounds=rounds)
        paid = 10 * rounds
        _check_balances(run, accounts, (100 - paid, 100 + paid, 100 - paid, 100 + paid),
                        f"after {rounds} transfers 1 -> 2 and {rounds} transfers 3 -> 4")

    # Per-account locks let both threads hold their locks at once on most schedules, and
    # one shared lock never does: a few schedules tell them apart.
    exploration = engine.explore(scenario, schedules=50)
    _assert_no_deadlock(exploration)
    check(exploration.max_lock_holders > 0,
          "no transfer ever held a lock: each transfer must lock the accounts it changes",
          verdict="race")
    check(exploration.max_lock_holders >= 2,
          "transfers 1 -> 2 and 3 -> 4 share no account, yet on "
          f"{plural(exploration.schedules, 'schedule')} they never held their locks at the "
          "same time: one lock for the whole ledger makes every transfer wait for every "
          "other; lock only the two accounts a transfer touches",
          verdict="serial", max_lock_holders=exploration.max_lock_holders)


# What the tests above share: opening accounts, booking threads, checking the ledger.

def _interface(student):
    module = student.module("transfer")
    return module.transfer, module.Account


def _open_accounts(run, Account, *balances):
    """Accounts numbered 1, 2, ... with these balances; their locks named for messages."""
    accounts = [Account(number, balance) for number, balance in enumerate(balances, start=1)]
    for account in accounts:
        run.label(account.lock, f"the lock of account {account.number}")
    return accounts


def _book(run, transfer, *bookings, rounds):
    """One booking thread per (src, dst, amount), each making `rounds` transfers; join all."""
    def booking(src, dst, amount):
        for _ in range(rounds):
            transfer(src, dst, amount)

    for src, dst, amount in bookings:
        run.spawn(booking, src, dst, amount,
                  name=f"transfers {src.number} -> {dst.number} of {amount}")
    run.join_all()


def _check_balances(run, accounts, expected, when, verdict="race"):
    """Fail the schedule if credits were lost or created, or landed in the wrong account."""
    total, expected_total = sum(a.balance for a in accounts), sum(expected)
    if total != expected_total:
        change = ("lost" if total < expected_total else "created out of nothing")
        run.check(False, f"{when}, the accounts hold {total:,} credits instead of "
                         f"{expected_total:,}: {plural(abs(total - expected_total), 'credit')} "
                         f"{change}", verdict=verdict)
    wrong = [f"account {a.number} holds {a.balance:,}, expected {e:,}"
             for a, e in zip(accounts, expected) if a.balance != e]
    run.check(not wrong, f"{when}, " + "; ".join(wrong), verdict=verdict)


def _assert_no_deadlock(exploration):
    """No failing schedule, and no pair of locks taken in both orders on any schedule."""
    exploration.assert_ok()
    cycles = list(exploration.lock_order_cycles)
    if cycles:
        fail(f"potential deadlock: {cycles[0]}", verdict="deadlock", cycles=cycles)
