"""Row locks of the ledger, always taken in primary-key order so two transactions never wait
on each other in a cycle. On SQLite `select_for_update` is a no-op: there the IMMEDIATE
transaction already holds the database's single write lock, and the guarded updates remain."""

from collections.abc import Iterable

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


def lock_wallet(account_id: int, unit_id: int) -> Wallet:
    """Lock one wallet; the common case of a single debit or issue."""
    # (account, unit) is unique: no ORDER BY or LIMIT for the planner to weigh.
    wallet = next(
        iter(Wallet.objects.select_for_update().filter(account_id=account_id, unit_id=unit_id)),
        None,
    )
    if wallet is None:
        Wallet.objects.bulk_create(
            [Wallet(account_id=account_id, unit_id=unit_id)], ignore_conflicts=True
        )
        wallet = Wallet.objects.select_for_update().get(account_id=account_id, unit_id=unit_id)
    return wallet
