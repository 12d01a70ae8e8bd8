"""Hidden tests of bank_account: the beam-time budget never loses an hour and never goes
below zero, however the booking threads interleave.

Every threaded check runs the student's Account under the controlled scheduler, which may
switch threads between any two bytecodes of bank.py and at every lock operation. A balance
checked in one step and changed in another (check-then-act) lets two withdrawals both pass
the check on some schedule, and a read-modify-write outside the lock loses an update on
some schedule: the failure names that schedule, so the verdict is the same on every run.
"""
from grader.testing import plural


def test_one_thread_bookkeeping(student, engine):
    """One thread: the account starts where it is told, adds, subtracts and refuses."""
    Account, InsufficientFunds = _interface(student)

    def scenario(run):
        run.check(isinstance(InsufficientFunds, type) and issubclass(InsufficientFunds, Exception),
                  "InsufficientFunds must be an exception class (class InsufficientFunds(Exception))")
        account = Account()
        _expect(run, account, 0, "Account() starts with")
        run.check(Account(70).balance == 70, f"Account(70) starts with {Account(70).balance!r}, expected 70")
        account.deposit(70)
        _expect(run, account, 70, "Account() then deposit(70) gives")
        account.withdraw(50)
        _expect(run, account, 20, "then withdraw(50) leaves")

        refused = False
        try:
            account.withdraw(50)
        except InsufficientFunds:
            refused = True
        run.check(refused, "withdraw(50) from a balance of 20 returned normally, leaving "
                           f"{account.balance!r}: it must raise InsufficientFunds")
        run.check(account.balance == 20,
                  f"withdraw(50) from a balance of 20 raised InsufficientFunds, but the balance is "
                  f"now {account.balance!r}: a refused withdrawal must leave the balance as it was")

        account.withdraw(20)
        _expect(run, account, 0, "withdraw(20) from exactly 20 (allowed: it leaves nothing) leaves")

        other = Account(5)
        other.deposit(1)
        run.check(account.balance == 0 and other.balance == 6,
                  "changing one Account changed another: each Account must keep its own balance")

    # One thread has nothing to interleave: a single schedule says it all.
    engine.explore(scenario, schedules=1).assert_ok()


def test_concurrent_deposits_lose_nothing(student, engine, exercise):
    """Several threads deposit at the same time: every hour deposited arrives."""
    Account, _ = _interface(student)
    amounts, rounds, start = (exercise.params[k] for k in ("deposit_amounts", "rounds", "start"))
    deposited = rounds * sum(amounts)

    def scenario(run):
        account = Account(start)

        def coordinator(amount):
            for _ in range(rounds):
                account.deposit(amount)

        for amount in amounts:
            run.spawn(coordinator, amount, name=f"deposits of {amount}")
        run.join_all()
        _check_ledger(run, account.balance, start + deposited,
                      f"after {plural(len(amounts), 'thread')} deposited "
                      f"{', '.join(map(str, amounts))} ({rounds} times each) at once from {start}")

    engine.explore(scenario).assert_ok()


def test_deposits_and_withdrawals_add_up(student, engine, exercise):
    """Deposits and withdrawals at once, with hours to spare: the ledger adds up exactly."""
    Account, InsufficientFunds = _interface(student)
    threads, rounds, start = (exercise.params[k] for k in ("mixed_threads", "rounds", "mixed_start"))
    deposit, withdrawal = 10, 30  # at most threads * rounds * 30 hours go: never more than start

    def scenario(run):
        account = Account(start)
        refused = []

        def coordinator():
            for _ in range(rounds):
                account.deposit(deposit)

        def booking():
            for _ in range(rounds):
                try:
                    account.withdraw(withdrawal)
                except InsufficientFunds:
                    refused.append(withdrawal)

        for i in range(1, threads + 1):
            run.spawn(coordinator, name=f"deposits-{i}")
            run.spawn(booking, name=f"bookings-{i}")
        run.join_all()
        n = threads * rounds
        what = (f"after {plural(n, 'deposit')} of {deposit} and {plural(n, 'withdrawal')} of "
                f"{withdrawal} at once from {start:,}")
        run.check(not refused,
                  f"{what}, {plural(len(refused), 'withdrawal')} of {withdrawal} raised "
                  f"InsufficientFunds although the balance never fell below "
                  f"{start - n * withdrawal:,}", verdict="race")
        _check_ledger(run, account.balance, start + n * deposit - n * withdrawal, what)

    engine.explore(scenario).assert_ok()


def test_withdrawals_never_overdraw(student, engine, exercise):
    """Two threads withdraw at once more than there is for both, while a third deposits a
    little: exactly one withdrawal gets it, nothing is lost, never below zero."""
    Account, InsufficientFunds = _interface(student)
    start, amount = exercise.params["overdraw_start"], exercise.params["overdraw_amount"]
    extra = exercise.params["overdraw_deposit"]  # never enough for the second withdrawal

    def scenario(run):
        # First, in this thread alone: does withdraw refuse at all? The message of a race
        # below depends on it (a withdraw that never checks has no check-then-act to blame).
        checks = _refuses_overdraft(Account(start), start + amount, InsufficientFunds)
        account = Account(start)
        granted = []

        def booking():
            try:
                account.withdraw(amount)
            except InsufficientFunds:
                return
            granted.append(amount)

        run.spawn(booking, name="booking-A")
        run.spawn(booking, name="booking-B")
        run.spawn(account.deposit, extra, name=f"deposit of {extra}")
        run.join_all()
        balance = account.balance
        what = f"two withdrawals of {amount} at once from {start}, while {extra} was deposited"
        if len(granted) == 2 and not checks:
            why = (f"both were allowed, and withdraw({start + amount}) from {start} in one thread "
                   "was allowed too: withdraw never refuses. It must compare the balance with "
                   "the amount and raise InsufficientFunds, in the same critical section as "
                   "the subtraction")
        elif len(granted) == 2:
            why = ("both were allowed, because each checked the balance before the other took "
                   "its hours (check-then-act): the check and the subtraction must be one "
                   "critical section")
        else:
            why = (f"{plural(len(granted), 'withdrawal')} went through: a refused withdrawal "
                   "must not take any hours")
        run.check(balance >= 0, f"the balance went to {balance} after {what}: {why}",
                  verdict="race" if len(granted) == 2 and checks else "wrong")
        if len(granted) == 2:
            run.check(False, f"{what}: both withdrawals went through, but there were only "
                             f"{start + extra} hours for {2 * amount}: {why}",
                      verdict="race" if checks else "wrong")
        run.check(len(granted) == 1,
                  f"{what}: {len(granted)} went through, expected exactly one (the other "
                  "must raise InsufficientFunds)", verdict="wrong")
        # One withdrawal granted: whatever the order, the ledger says start + extra - amount.
        _check_ledger(run, balance, start + extra - amount,
                      f"after {what} (one withdrawal granted)")
        # The refused withdrawal must leave the account usable: a lock still held after
        # InsufficientFunds makes the next deposit wait for ever (a deadlock, explained).
        account.deposit(amount)
        run.check(account.balance == start + extra,
                  f"after {what} (one granted, one refused), deposit({amount}) left the balance "
                  f"at {account.balance}, expected {start + extra}")

    engine.explore(scenario).assert_ok()


# What the tests above share.

def _interface(student):
    module = student.module("bank")
    return module.Account, module.InsufficientFunds


def _refuses_overdraft(account, amount, InsufficientFunds):
    """Whether account.withdraw(amount), more than the balance, raises InsufficientFunds."""
    try:
        account.withdraw(amount)
    except InsufficientFunds:
        return True
    except Exception:
        return False
    return False


def _expect(run, account, expected, what):
    balance = account.balance
    run.check(balance == expected, f"{what} {balance!r}, expected {expected}")


def _check_ledger(run, balance, expected, what):
    """Fail the schedule with how many hours were lost (or appeared from nowhere)."""
    if balance < expected:
        run.check(False, f"{what}, the balance is {balance:,}, expected {expected:,}: "
                         f"{plural(expected - balance, 'hour')} lost", verdict="race")
    elif balance > expected:
        run.check(False, f"{what}, the balance is {balance:,}, expected {expected:,}: "
                         f"{plural(balance - expected, 'hour')} appeared from nowhere", verdict="race")
