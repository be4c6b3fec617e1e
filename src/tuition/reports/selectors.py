"""Reads behind every report. Each returns rows as dicts from one `.values()` query iterated
in chunks, so a report of any size streams in constant memory and reads one consistent
snapshot (one statement on SQLite's WAL; one statement, or the caller's REPEATABLE READ
transaction, on PostgreSQL)."""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from tuition.accounts import access
from tuition.accounts.models import Membership, TrainingAccount
from tuition.checkout.models import Order
from tuition.codes import crypto
from tuition.codes.models import CouponScopeItem, RedemptionCode
from tuition.core import clock
from tuition.ledger.models import Entry, Lot, LotScopeItem, SystemAccount, Transfer

from .filters import ReportFilters

CHUNK = 2000


@contextmanager
def snapshot() -> Iterator[None]:
    """Read a whole report from one snapshot. On PostgreSQL: a read-only REPEATABLE READ
    transaction (which also lets the server-side cursor stream without WITH HOLD). On SQLite
    each report is one statement, which WAL already reads from one snapshot; opening a
    transaction there would take the write lock (IMMEDIATE mode) and stall checkouts."""
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield
    else:
        yield


CODE_STATUSES = ("active", "inactive", "expired", "deleted")


def _in_range(qs: QuerySet[Any], filters: ReportFilters, name: str) -> QuerySet[Any]:
    if filters.date_from is not None:
        qs = qs.filter(**{f"{name}__gte": filters.date_from})
    if filters.date_to is not None:
        qs = qs.filter(**{f"{name}__lte": filters.date_to})
    return qs


def _stream(qs: QuerySet[Any], needed: Sequence[str]) -> Iterator[dict[str, Any]]:
    return qs.values(*needed).iterator(chunk_size=CHUNK)


# --- Coupons and Training Credits -------------------------------------------------------------


def code_rows(filters: ReportFilters, needed: Sequence[str]) -> Iterator[dict[str, Any]]:
    return _stream(codes_queryset(filters).order_by("created_at", "id"), needed)


def codes_queryset(filters: ReportFilters) -> QuerySet[RedemptionCode]:
    now = clock.now()
    deleted = (
        Q(deleted_at__isnull=False)
        | Q(lot__deleted_at__isnull=False)
        | Q(coupon__deleted_at__isnull=False)
    )
    inactive = (
        Q(status=RedemptionCode.Status.INACTIVE)
        | Q(lot__status=Lot.Status.INACTIVE)
        | Q(coupon__status="inactive")
    )
    expired = Q(lot__expires_at__lte=now) | Q(coupon__valid_until__lte=now)
    qs = RedemptionCode.objects.annotate(
        r_account_id=Coalesce("lot__account_id", "account_id"),
        r_account_name=Coalesce("lot__account__name", "account__name"),
        r_account_external_id=Coalesce("lot__account__external_id", "account__external_id"),
        r_unit_code=Coalesce(
            "lot__unit__code", "unit__code", Value("USD"), output_field=CharField()
        ),
        r_decimals=Coalesce(
            "lot__unit__decimals", "unit__decimals", Value(2), output_field=IntegerField()
        ),
        r_expires_at=Coalesce("lot__expires_at", "coupon__valid_until"),
        r_scope_kind=Coalesce("lot__scope_kind", "coupon__scope_kind"),
        r_scope_all=Coalesce("lot__scope_all", "coupon__scope_all"),
        r_notes=Coalesce("lot__notes", "coupon__notes", Value(""), output_field=CharField()),
        r_status=Case(
            When(deleted, then=Value("deleted")),
            When(inactive, then=Value("inactive")),
            When(expired, then=Value("expired")),
            default=Value("active"),
            output_field=CharField(),
        ),
    )
    qs = _in_range(qs, filters, "created_at")
    if filters.account_id is not None:
        qs = qs.filter(Q(account_id=filters.account_id) | Q(lot__account_id=filters.account_id))
    if filters.unit_id is not None:
        in_unit = Q(unit_id=filters.unit_id) | Q(lot__unit_id=filters.unit_id)
        if filters.unit_code == "USD":
            in_unit |= Q(kind=RedemptionCode.Kind.COUPON)
        qs = qs.filter(in_unit)
    if filters.status is not None:
        qs = qs.filter(r_status=filters.status)
    if filters.item_kind is not None:
        listed_lot = LotScopeItem.objects.filter(lot=OuterRef("lot_id"), item_id=filters.item_id)
        listed_coupon = CouponScopeItem.objects.filter(
            coupon=OuterRef("coupon_id"), item_kind=filters.item_kind, item_id=filters.item_id
        )
        qs = qs.filter(
            (Q(lot__scope_kind=filters.item_kind) & (Q(lot__scope_all=True) | Exists(listed_lot)))
            | (
                Q(coupon__scope_kind__in=[filters.item_kind, "any"])
                & (Q(coupon__scope_all=True) | Exists(listed_coupon))
            )
        )
    return qs


def reveal(row: dict[str, Any]) -> str:
    """The code's text: reports are for provider staff, who may see every code."""
    return crypto.unseal(row["sealed"]) or ""


def scope_text(row: dict[str, Any]) -> str:
    kind = row["r_scope_kind"]
    if kind is None:
        return "any item"  # pool and member codes pay with whatever their lots cover
    what = {"activity": "activities", "group": "groups", "any": "activities and groups"}[kind]
    return f"all {what}" if row["r_scope_all"] else f"chosen {what}"


def coupon_discount(row: dict[str, Any]) -> str:
    if row["coupon__percent_off_bp"] is not None:
        percent = row["coupon__percent_off_bp"] / 100
        return f"{percent:g} %"
    if row["coupon__amount_off"] is not None:
        cents = row["coupon__amount_off"]
        return f"{cents // 100}.{cents % 100:02d} USD"
    return ""


# --- Purchases ---------------------------------------------------------------------------------


def orders_queryset(filters: ReportFilters) -> QuerySet[Order]:
    qs = _in_range(Order.objects.all(), filters, "created_at")
    if filters.account_id is not None:
        qs = qs.filter(account_id=filters.account_id)
    if filters.unit_id is not None:
        qs = qs.filter(unit_id=filters.unit_id)
    if filters.status is not None:
        qs = qs.filter(status=filters.status)
    if filters.item_kind == "activity":
        qs = qs.filter(activity_id=filters.item_id)
    elif filters.item_kind == "group":
        qs = qs.filter(group_id=filters.item_id)
    return qs


def purchase_rows(filters: ReportFilters, needed: Sequence[str]) -> Iterator[dict[str, Any]]:
    return _stream(orders_queryset(filters).order_by("created_at", "id"), needed)


# --- Usage by team member ---------------------------------------------------------------------


def usage_rows(filters: ReportFilters, needed: Sequence[str] = ()) -> Iterator[dict[str, Any]]:
    """Per account, unit and person: what they spent with the account's codes."""
    role = Membership.objects.filter(
        account_id=OuterRef("account_id"), user_id=OuterRef("learner_id")
    ).values("role")[:1]
    qs = (
        orders_queryset(filters)
        .filter(
            account__isnull=False,
            transfer__isnull=False,
            method__in=[Order.Method.TRAINING_CREDIT, Order.Method.TOKENS],
        )
        .values(
            "account_id",
            "account__name",
            "unit__code",
            "unit__decimals",
            "learner_id",
            "learner__email",
            "learner__name",
        )
        .annotate(
            role=Subquery(role),
            orders=Count("id"),
            spent=Sum("charged"),
            refunded=Coalesce(Sum("refunded_amount"), 0),
            first_at=Min("created_at"),
            last_at=Max("created_at"),
        )
        .order_by("account__name", "account_id", "unit__code", "learner__email")
    )
    for row in qs.iterator(chunk_size=CHUNK):
        row["net"] = row["spent"] - row["refunded"]
        yield row


# --- Ledger -----------------------------------------------------------------------------------


def ledger_rows(filters: ReportFilters, needed: Sequence[str]) -> Iterator[dict[str, Any]]:
    # The journal order: entries are appended, so their ids follow the booking order.
    return _stream(entries_queryset(filters).order_by("id"), needed)


def entries_queryset(filters: ReportFilters) -> QuerySet[Entry]:
    qs = _in_range(Entry.objects.all(), filters, "transfer__created_at")
    if filters.account_id is not None:
        qs = qs.filter(transfer__account_id=filters.account_id)
    if filters.unit_id is not None:
        qs = qs.filter(transfer__unit_id=filters.unit_id)
    if filters.kind is not None:
        qs = qs.filter(transfer__kind=filters.kind)
    return qs


# --- Balances and liability -------------------------------------------------------------------

BUCKETS = (("expiring_30", 30), ("expiring_90", 90), ("expiring_365", 365))


@dataclass
class _Liability:
    account_id: int
    account_name: str
    unit_code: str
    decimals: int
    as_of: datetime
    outstanding: int = 0
    inactive: int = 0
    held: int = 0
    lots: int = 0
    expiring_30: int = 0
    expiring_90: int = 0
    expiring_365: int = 0
    expiring_later: int = 0
    never_expires: int = 0
    expired_unswept: int = 0
    next_expiry: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def lot_balances_at(at: datetime, filters: ReportFilters | None = None) -> QuerySet[Lot]:
    """Every lot that existed at `at`, with `balance_at`: the sum of its entries booked up to
    and including `at` (the ledger's own definition of its remaining amount)."""
    qs = Lot.objects.filter(created_at__lte=at)
    if filters is not None and filters.account_id is not None:
        qs = qs.filter(account_id=filters.account_id)
    if filters is not None and filters.unit_id is not None:
        qs = qs.filter(unit_id=filters.unit_id)
    booked = (
        Entry.objects.filter(lot=OuterRef("pk"), transfer__created_at__lte=at)
        .values("lot")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return qs.annotate(balance_at=Coalesce(Subquery(booked), 0))


def held_at(at: datetime, filters: ReportFilters | None = None) -> dict[tuple[int, int], int]:
    """Per (account id, unit id): the value in the `holds` system account at `at`."""
    entries = Entry.objects.filter(system_account=SystemAccount.HOLDS, transfer__created_at__lte=at)
    if filters is not None and filters.account_id is not None:
        entries = entries.filter(transfer__account_id=filters.account_id)
    if filters is not None and filters.unit_id is not None:
        entries = entries.filter(transfer__unit_id=filters.unit_id)
    rows = (
        entries.values("transfer__account_id", "transfer__unit_id")
        .annotate(total=Sum("amount"))
        .values_list("transfer__account_id", "transfer__unit_id", "total")
    )
    return {(a, u): total for a, u, total in rows if total}


def liability_rows(filters: ReportFilters, needed: Sequence[str] = ()) -> Iterator[dict[str, Any]]:
    """Per account and unit at `filters.at` (default now): the value held by lots that have
    not expired by then (an expiry instant is exclusive: a lot expiring at `at` holds none),
    split by when it expires; value in expired lots not yet written off is shown apart."""
    at = filters.at or clock.now()
    limits = [(name, at + timedelta(days=days)) for name, days in BUCKETS]
    totals: dict[tuple[int, int], _Liability] = {}
    lots = lot_balances_at(at, filters).values(
        "account_id",
        "account__name",
        "unit_id",
        "unit__code",
        "unit__decimals",
        "expires_at",
        "status",
        "balance_at",
    )
    for lot in lots.iterator(chunk_size=CHUNK):
        key = (lot["account_id"], lot["unit_id"])
        line = totals.get(key)
        if line is None:
            line = totals[key] = _Liability(
                account_id=lot["account_id"],
                account_name=lot["account__name"],
                unit_code=lot["unit__code"],
                decimals=lot["unit__decimals"],
                as_of=at,
            )
        balance, expires_at = lot["balance_at"], lot["expires_at"]
        if balance == 0:
            continue
        if expires_at is not None and expires_at <= at:
            line.expired_unswept += balance
            continue
        line.outstanding += balance
        line.lots += 1
        if lot["status"] != Lot.Status.ACTIVE:
            line.inactive += balance
        if expires_at is None:
            line.never_expires += balance
            continue
        if line.next_expiry is None or expires_at < line.next_expiry:
            line.next_expiry = expires_at
        for name, limit in limits:
            if expires_at <= limit:
                setattr(line, name, getattr(line, name) + balance)
                break
        else:
            line.expiring_later += balance
    # Value held for approval (SPEC §7) has left its lots but is still the account's: it counts
    # as outstanding, apart from the expiry buckets (it goes back to its lots if declined).
    for (account_id, unit_id), held in held_at(at, filters).items():
        line = totals.get((account_id, unit_id))
        if line is not None:
            line.held += held
            line.outstanding += held
    for line in sorted(totals.values(), key=lambda x: (x.account_name, x.account_id, x.unit_code)):
        row = dict(vars(line))
        row.pop("extra")
        yield row


# --- Account statement (owners) ---------------------------------------------------------------

_DESCRIPTIONS = {
    Transfer.Kind.ISSUE: "Credit issued",
    Transfer.Kind.REDEEM: "Redeemed",
    Transfer.Kind.REVERSE: "Refunded",
    Transfer.Kind.EXPIRE: "Expired",
    Transfer.Kind.ADJUST: "Adjusted",
    Transfer.Kind.VOID: "Credit deleted",
}


def statement_rows(filters: ReportFilters, needed: Sequence[str] = ()) -> Iterator[dict[str, Any]]:
    """One account's transfers with the running ledger balance per unit, opened by the balance
    carried in from before `from`."""
    assert filters.account_id is not None
    opening: dict[int, int] = {}
    units: dict[int, tuple[str, int]] = {}
    if filters.date_from is not None:
        before = Entry.objects.filter(
            lot__account_id=filters.account_id, transfer__created_at__lt=filters.date_from
        )
        if filters.unit_id is not None:
            before = before.filter(transfer__unit_id=filters.unit_id)
        carried = (
            before.values("transfer__unit_id", "transfer__unit__code", "transfer__unit__decimals")
            .annotate(total=Sum("amount"))
            .order_by("transfer__unit__code")
        )
        for row in carried:
            unit_id = row["transfer__unit_id"]
            opening[unit_id] = row["total"]
            units[unit_id] = (row["transfer__unit__code"], row["transfer__unit__decimals"])
            yield {
                "created_at": filters.date_from,
                "id": None,
                "kind": "opening",
                "unit__code": row["transfer__unit__code"],
                "unit__decimals": row["transfer__unit__decimals"],
                "description": "Opening balance",
                "order_number": "",
                "learner_email": "",
                "change": None,
                "balance": row["total"],
            }

    change = (
        Entry.objects.filter(transfer=OuterRef("pk"), lot__isnull=False)
        .values("transfer")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    qs = _in_range(Transfer.objects.filter(account_id=filters.account_id), filters, "created_at")
    if filters.unit_id is not None:
        qs = qs.filter(unit_id=filters.unit_id)
    qs = (
        qs.annotate(change=Coalesce(Subquery(change), 0))
        .values(
            "id",
            "created_at",
            "kind",
            "unit_id",
            "unit__code",
            "unit__decimals",
            "reason",
            "change",
            "order__number",
            "order__title",
            "order__learner__email",
            "refunded_order__number",
            "refunded_order__title",
            "refunded_order__learner__email",
            "credit_note__order__number",
            "credit_note__order__title",
            "credit_note__order__learner__email",
        )
        .order_by("created_at", "id")
    )
    balances = dict(opening)
    for row in qs.iterator(chunk_size=CHUNK):
        balance = balances.get(row["unit_id"], 0) + row["change"]
        balances[row["unit_id"]] = balance
        number = (
            row["order__number"]
            or row["refunded_order__number"]
            or row["credit_note__order__number"]
            or ""
        )
        title = (
            row["order__title"] or row["refunded_order__title"] or row["credit_note__order__title"]
        )
        title = title or ""
        learner = (
            row["order__learner__email"]
            or row["refunded_order__learner__email"]
            or row["credit_note__order__learner__email"]
            or ""
        )
        description = _DESCRIPTIONS.get(row["kind"], row["kind"])
        detail = title or row["reason"]
        yield {
            "created_at": row["created_at"],
            "id": row["id"],
            "kind": row["kind"],
            "unit__code": row["unit__code"],
            "unit__decimals": row["unit__decimals"],
            "description": f"{description}: {detail}" if detail else description,
            "order_number": number,
            "learner_email": learner,
            "change": row["change"],
            "balance": balance,
        }


def owned_account(user: Any, account_id: Any) -> TrainingAccount | None:
    """The account if this person owns it (or is staff), else None: the caller answers 404
    either way, exactly as for an account that does not exist (SPEC rule 26)."""
    return access.manageable_account(user, account_id)
