"""Row locks of the ledger, always taken in primary-key order so two transactions never wait
on each other in a cycle. On SQLite `select_for_update` is a no-op: there the IMMEDIATE
transaction already holds the database's single write lock, and the guarded updates remain."""

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import connections
from django.db.models import Model

from tuition.core import round_trips

from .models import Wallet


def lock_wallets(pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], Wallet]:
    """Lock the wallets of these (account_id, unit_id) pairs, creating missing ones first."""
    wanted = set(pairs)
    existing = {
        (w.account_id, w.unit_id)
        for w in Wallet.objects.filter(account_id__in={a for a, _ in wanted})
    }
    missing = [Wallet(account_id=a, unit_id=u) for a, u in wanted - existing]
    if missing:
        Wallet.objects.bulk_create(missing, ignore_conflicts=True)
    ids = Wallet.objects.filter(account_id__in={a for a, _ in wanted}).values_list(
        "id", "account_id", "unit_id"
    )
    wallet_ids = sorted(pk for pk, a, u in ids if (a, u) in wanted)
    locked = Wallet.objects.select_for_update().filter(pk__in=wallet_ids).order_by("pk")
    return {(w.account_id, w.unit_id): w for w in locked}


def lock_wallet(
    account_id: int,
    unit_id: int,
    *,
    keys_for: Sequence[type[Model]] = (),
    reads: Callable[[], None] | None = None,
) -> list[int | None]:
    """Lock one wallet (created first when missing). Every debit and checkout takes this lock,
    so it is one fixed statement rather than a query the ORM builds anew each time; (account,
    unit) is unique, so it needs no ORDER BY or LIMIT.

    `keys_for`: the same statement also draws a primary key for a new row of each of these
    models, so the rows written under the lock can name each other and be sent together
    (`core.round_trips`). Returns those keys, in order; None each where the database cannot
    draw them (SQLite).

    `reads`: sends the reads the caller makes under the lock (with `round_trips.execute` or
    `ReusedQuery.send`). They go in the lock's own round trip and run once the lock is held,
    so they cost the lock holder no extra wait; their `then` sees their rows. Should the
    wallet have to be added first, they are sent again: `then` keeps the latest rows only."""
    connection = connections["default"]
    for_update = " FOR UPDATE" if connection.features.has_select_for_update else ""
    drawn = round_trips.key_columns(keys_for)
    columns = ", ".join(["id", *drawn])
    sql = (
        f"SELECT {columns} FROM {Wallet._meta.db_table} WHERE account_id = %s AND unit_id = %s"
        f"{for_update}"
    )
    locked: list[tuple[Any, ...] | None] = []
    with round_trips.one_round_trip():
        round_trips.execute(sql, [account_id, unit_id], then=lambda c: locked.append(c.fetchone()))
        if reads is not None:
            reads()
    if locked[0] is None:  # no wallet yet: add it, then lock and read again
        Wallet.objects.bulk_create(
            [Wallet(account_id=account_id, unit_id=unit_id)], ignore_conflicts=True
        )
        return lock_wallet(account_id, unit_id, keys_for=keys_for, reads=reads)
    return list(locked[0][1:]) if drawn else [None] * len(keys_for)
