"""The ledger's invariants (SPEC §6), recomputed from the rows themselves.

Each check returns a list of problems (empty when the invariant holds). Other apps add their own
checks in a `verify.py` module with a CHECKS list; `tuition verify` runs them all.
"""

from collections.abc import Callable

from django.db.models import Count, Exists, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce

from .models import Entry, Hold, HoldPart, Lot, SystemAccount, Transfer

Check = Callable[[], list[str]]
SAMPLE = 20


def transfers_balance() -> list[str]:
    """Every transfer's entries sum to zero, and it has at least two of them."""
    bad = (
        Transfer.objects.annotate(total=Coalesce(Sum("entries__amount"), 0), legs=Count("entries"))
        .filter(~Q(total=0) | Q(legs__lt=2))
        .values_list("pk", "total", "legs")[:SAMPLE]
    )
    return [f"transfer {pk}: entries sum to {total} over {legs} legs" for pk, total, legs in bad]


def ledger_sums_to_zero() -> list[str]:
    total = Entry.objects.aggregate(total=Coalesce(Sum("amount"), 0))["total"]
    return [] if total == 0 else [f"all entries sum to {total}, not 0"]


def lots_match_entries() -> list[str]:
    """A lot's remaining amount equals the sum of its entries."""
    bad = (
        Lot.objects.annotate(booked=Coalesce(Sum("entries__amount"), 0))
        .exclude(remaining=F("booked"))
        .values_list("pk", "remaining", "booked")[:SAMPLE]
    )
    return [f"lot {pk}: remaining {rem} but entries sum to {booked}" for pk, rem, booked in bad]


def no_negative_lots() -> list[str]:
    return [
        f"lot {pk} is negative"
        for pk in Lot.objects.filter(remaining__lt=0).values_list("pk", flat=True)[:SAMPLE]
    ]


def no_spend_after_expiry() -> list[str]:
    """No redemption was booked on a lot at or after the expiry in force when it was booked.

    A lot's expiry may be moved later, into the past included (rule 8): what counts is the
    expiry its change history held at the moment the money moved, not today's. Only redemptions
    on lots whose expiry now lies before them are candidates, so the history is read for few.
    A version recorded at the very instant of the redemption may have come just before or just
    after it; the redemption stands when any such version allowed it.
    """
    booked_at = OuterRef("transfer__created_at")
    versions = Lot.history.model.objects.filter(id=OuterRef("lot_id"))
    allowed = Q(expires_at__isnull=True) | Q(expires_at__gt=booked_at)
    before = versions.filter(history_date__lt=booked_at).order_by("-history_date", "-history_id")
    bad = (
        Entry.objects.filter(
            transfer__kind=Transfer.Kind.REDEEM,
            lot__expires_at__isnull=False,
            transfer__created_at__gte=F("lot__expires_at"),
        )
        .annotate(
            same_instant_allowed=Exists(versions.filter(allowed, history_date=booked_at)),
            known_before=Exists(before),
            expiry_before=Subquery(before.values("expires_at")[:1]),
        )
        .filter(same_instant_allowed=False)
        .filter(
            # nothing known from before: the versions of that instant, or today's expiry, forbid
            Q(known_before=False)
            | Q(expiry_before__isnull=False, transfer__created_at__gte=F("expiry_before"))
        )
        .values_list("transfer_id", "lot_id")[:SAMPLE]
    )
    return [f"transfer {t} spent lot {lot} after it expired" for t, lot in bad]


def reversals_match() -> list[str]:
    """A full reversal moves exactly the amount of the transfer it reverses; partial ones
    (refunds of part of a redemption) together never more than it."""
    bad = (
        Transfer.objects.filter(kind=Transfer.Kind.REVERSE)
        .exclude(unique_key__contains=":part:")
        .exclude(amount=F("reverses__amount"))
        .values_list("pk", flat=True)[:SAMPLE]
    )
    over = (
        Transfer.objects.filter(reversals__unique_key__contains=":part:")
        .annotate(back=Sum("reversals__amount"))
        .filter(back__gt=F("amount"))
        .values_list("pk", flat=True)[:SAMPLE]
    )
    return [f"reversal {pk} does not match the amount it reverses" for pk in bad] + [
        f"transfer {pk} was returned in part for more than it moved" for pk in over
    ]


def holds_match_their_transfers() -> list[str]:
    """Every hold reserved exactly its parts by its `hold` transfer; a pending hold has not been
    given back, an ended one was given back exactly once (and a captured one spent exactly what
    it held); and the `holds` system account holds exactly what the pending holds reserve."""
    problems: list[str] = []
    parts = dict(
        HoldPart.objects.values("hold_id").annotate(t=Sum("amount")).values_list("hold_id", "t")
    )
    held_by = dict(
        Entry.objects.filter(
            transfer__kind=Transfer.Kind.HOLD, system_account=SystemAccount.HOLDS
        ).values_list("transfer_id", "amount")
    )
    released_by = dict(
        Entry.objects.filter(
            transfer__kind=Transfer.Kind.RELEASE, system_account=SystemAccount.HOLDS
        ).values_list("transfer_id", "amount")
    )
    redeemed_by = dict(
        Transfer.objects.filter(kind=Transfer.Kind.REDEEM, captured_hold__isnull=False).values_list(
            "pk", "amount"
        )
    )
    for hold in Hold.objects.values(
        "pk", "amount", "status", "hold_transfer_id", "release_transfer_id", "capture_transfer_id"
    ).iterator():
        pk, amount = hold["pk"], hold["amount"]
        if parts.get(pk) != amount or held_by.get(hold["hold_transfer_id"]) != amount:
            problems.append(f"hold {pk}: parts or hold transfer do not match {amount}")
        released = hold["release_transfer_id"]
        if hold["status"] == Hold.Status.PENDING:
            if released is not None or hold["capture_transfer_id"] is not None:
                problems.append(f"hold {pk} is pending but was ended")
        elif released is None or released_by.get(released) != -amount:
            problems.append(f"hold {pk} ({hold['status']}) was not given back exactly once")
        if hold["status"] == Hold.Status.CAPTURED and (
            redeemed_by.get(hold["capture_transfer_id"]) != amount
        ):
            problems.append(f"hold {pk} was captured without a redemption of {amount}")
    releases = Transfer.objects.filter(kind=Transfer.Kind.RELEASE).count()
    if releases != Hold.objects.exclude(status=Hold.Status.PENDING).count():
        problems.append(f"{releases} release transfers for a different number of ended holds")
    in_holds = Entry.objects.filter(system_account=SystemAccount.HOLDS).aggregate(
        t=Coalesce(Sum("amount"), 0)
    )["t"]
    pending = Hold.objects.filter(status=Hold.Status.PENDING).aggregate(
        t=Coalesce(Sum("amount"), 0)
    )["t"]
    if in_holds != pending:
        problems.append(f"the holds account holds {in_holds}, pending holds reserve {pending}")
    return problems[:SAMPLE]


def lots_hold_what_their_holds_reserve() -> list[str]:
    """Per lot: what `hold` and `release` transfers took from it and gave back is exactly what
    its pending holds reserve (issued - spent + reversed - held = remaining, with the rest)."""
    moved = dict(
        Entry.objects.filter(
            lot__isnull=False, transfer__kind__in=[Transfer.Kind.HOLD, Transfer.Kind.RELEASE]
        )
        .values("lot_id")
        .annotate(t=Sum("amount"))
        .values_list("lot_id", "t")
    )
    reserved = dict(
        HoldPart.objects.filter(hold__status=Hold.Status.PENDING)
        .values("lot_id")
        .annotate(t=Sum("amount"))
        .values_list("lot_id", "t")
    )
    return [
        f"lot {lot_id}: holds moved {-moved.get(lot_id, 0)}, pending holds reserve "
        f"{reserved.get(lot_id, 0)}"
        for lot_id in sorted(set(moved) | set(reserved))
        if -moved.get(lot_id, 0) != reserved.get(lot_id, 0)
    ][:SAMPLE]


CHECKS: list[Check] = [
    transfers_balance,
    ledger_sums_to_zero,
    lots_match_entries,
    no_negative_lots,
    no_spend_after_expiry,
    reversals_match,
    holds_match_their_transfers,
    lots_hold_what_their_holds_reserve,
]
