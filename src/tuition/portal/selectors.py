"""Reads the learner and owner pages need that no other app offers.

Everything here is read-only. Access rules are decided here too (who owns which account,
who may see a balance), so views stay thin and the rule lives in one place.
"""

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import batched

from django.db.models import Count, F, Prefetch, QuerySet, Sum
from django.db.models.functions import TruncMonth

from tuition.accounts import access
from tuition.accounts.models import Membership, TrainingAccount, User
from tuition.catalog.models import Activity, Group, RefillPrice, Session
from tuition.catalog.selectors import upcoming_sessions
from tuition.checkout.models import Booking, Order, Registration
from tuition.codes.models import RedemptionCode
from tuition.codes.selectors import codes_of_account
from tuition.core import clock
from tuition.ledger.models import Transfer, Unit
from tuition.ledger.selectors import UnitBalance, get_balances

# --- access ----------------------------------------------------------------------------------


def owned_account(user: User, account_id: int) -> TrainingAccount | None:
    """The account if `user` manages it (its owner, or staff); None otherwise, so that another
    owner's account and a missing one look exactly alike (SPEC rule 26)."""
    return access.manageable_account(user, account_id)


def owned_accounts(user: User) -> QuerySet[TrainingAccount]:
    return access.owned_by(user)


@dataclass
class VisibleBalance:
    account: TrainingAccount
    is_owner: bool
    balances: list[UnitBalance]


def balances_visible_to(user: User) -> list[VisibleBalance]:
    """The team balances this person may see: accounts they own, or where the owner allowed
    them to see the balance. Members without that right see nothing."""
    if not user.is_authenticated:
        return []
    memberships = (
        Membership.objects.filter(user=user)
        .select_related("account")
        .order_by("account__name", "account_id")
    )
    result = []
    for membership in memberships:
        if membership.is_owner or membership.can_view_balance:
            result.append(
                VisibleBalance(
                    membership.account,
                    membership.is_owner,
                    get_balances(account_id=membership.account_id),
                )
            )
    return result


# --- catalog -----------------------------------------------------------------------------------


@dataclass
class CatalogEntry:
    kind: str  # "activity" | "group"
    obj: Activity | Group
    token_prices: list[tuple[Unit, int]]
    next_session: Session | None = None
    activity_count: int = 0

    @property
    def pk(self) -> int:
        return self.obj.pk


def catalog_entries() -> list[CatalogEntry]:
    """Published activities and groups, each with its prices and (dated) next session."""
    now = clock.now()
    upcoming = Prefetch(
        "sessions",
        queryset=Session.objects.filter(is_cancelled=False, starts_at__gt=now).order_by(
            "starts_at", "id"
        ),
        to_attr="upcoming",
    )
    activities = Activity.objects.filter(is_published=True).prefetch_related(
        "token_prices__unit", upcoming
    )
    groups = (
        Group.objects.filter(is_published=True)
        .prefetch_related("token_prices__unit")
        .annotate(activity_count=Count("activities"))
    )
    entries = [
        CatalogEntry(
            "activity", a, _token_prices(a), next_session=a.upcoming[0] if a.upcoming else None
        )  # type: ignore[attr-defined]
        for a in activities
    ]
    entries += [
        CatalogEntry("group", g, _token_prices(g), activity_count=g.activity_count)  # type: ignore[attr-defined]
        for g in groups
    ]
    return entries


def _token_prices(obj: Activity | Group) -> list[tuple[Unit, int]]:
    return sorted(
        ((p.unit, p.amount) for p in obj.token_prices.all()), key=lambda pair: pair[0].code
    )


def catalog_item(kind: str, pk: int) -> CatalogEntry | None:
    model = {"activity": Activity, "group": Group}.get(kind)
    if model is None:
        return None
    obj = (
        model.objects.filter(pk=pk, is_published=True)
        .prefetch_related("token_prices__unit")
        .first()
    )
    if obj is None:
        return None
    return CatalogEntry(kind, obj, _token_prices(obj))


def sessions_of(activity_id: int) -> list[Session]:
    return list(upcoming_sessions(activity_id))


# --- my learning -------------------------------------------------------------------------------


@dataclass
class DatedPart:
    """One dated activity of a registration, with its active booking if any."""

    activity: Activity
    booking: Booking | None


@dataclass
class LearningRow:
    registration: Registration
    dated: list[DatedPart] = field(default_factory=list)
    # For a group: every activity it registered the learner for.
    included: list[Activity] = field(default_factory=list)


def learning_of(user: User) -> list[LearningRow]:
    """The person's registrations, newest first, with their bookings and documents."""
    registrations = (
        Registration.objects.filter(learner=user, part_of__isnull=True)
        .select_related(
            "order", "order__unit", "order__receipt", "order__invoice", "activity", "group"
        )
        .prefetch_related(
            Prefetch(
                "bookings",
                queryset=Booking.objects.filter(status=Booking.Status.ACTIVE).select_related(
                    "session"
                ),
                to_attr="live",
            ),
            "group__activities",
            Prefetch(
                "parts",
                queryset=Registration.objects.select_related("activity").order_by(
                    "activity__title"
                ),
                to_attr="held",
            ),
        )
        .order_by("-created_at", "-id")
    )
    rows = []
    for registration in registrations:
        live = {b.activity_id: b for b in registration.live}  # type: ignore[attr-defined]
        if registration.activity is not None:
            dated = [registration.activity] if registration.activity.is_dated else []
        else:
            dated = [
                a
                for a in registration.group.activities.all()  # type: ignore[union-attr]
                if a.is_dated
            ]
        included = [part.activity for part in registration.held]  # type: ignore[attr-defined]
        rows.append(
            LearningRow(registration, [DatedPart(a, live.get(a.pk)) for a in dated], included)
        )
    return rows


def learning_row_for(user: User, kind: str, pk: int) -> LearningRow | None:
    """The person's live registration covering this activity or group (an activity also
    through a group that holds it), as My learning shows it."""
    for row in learning_of(user):
        registration = row.registration
        if registration.status not in (Registration.Status.ACTIVE, Registration.Status.PENDING):
            continue
        if getattr(registration, f"{kind}_id") == pk:
            return row
        if kind == "activity" and any(a.pk == pk for a in row.included):
            return row
    return None


def registration_of(user: User, registration_id: int) -> Registration | None:
    return (
        Registration.objects.filter(pk=registration_id, learner=user)
        .select_related("activity", "group", "order")
        .first()
    )


def order_for(user: User, number: str) -> Order | None:
    """An order its learner may see, or (refills and team bookings) its account's owners."""
    order = (
        Order.objects.filter(number=number)
        .select_related("unit", "refill_unit", "session", "session__activity", "account", "learner")
        .first()
    )
    if order is None:
        return None
    if order.learner_id == user.pk or user.is_staff:
        return order
    if order.account_id and owned_account(user, order.account_id) is not None:
        return order
    return None


# --- the training account ------------------------------------------------------------------------


def members_of(account_id: int) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(account_id=account_id)
        .select_related("user")
        .order_by("role", "user__email")
    )


def account_codes(account_id: int) -> QuerySet[RedemptionCode]:
    return codes_of_account(account_id).select_related("lot__unit").order_by("kind", "-created_at")


def pool_code(account_id: int, unit: Unit) -> RedemptionCode | None:
    return (
        RedemptionCode.objects.filter(
            account_id=account_id,
            unit=unit,
            kind=RedemptionCode.Kind.POOL,
            status=RedemptionCode.Status.ACTIVE,
            deleted_at__isnull=True,
        )
        .order_by("created_at", "id")
        .first()
    )


def refill_units() -> list[tuple[Unit, int]]:
    """Units an owner can buy, with the USD cents one whole unit costs."""
    units = [(Unit.objects.get(code=Unit.USD), 100)]
    prices = (
        RefillPrice.objects.filter(is_active=True, unit__is_active=True)
        .select_related("unit")
        .order_by("unit__code")
    )
    return units + [(p.unit, p.unit_price) for p in prices]


@dataclass
class TransactionRow:
    transfer: Transfer
    lot_amount: int  # signed change to the account's lots
    learner: str = ""  # who it was for, as they are named today

    @property
    def display(self) -> str:
        sign = "+" if self.lot_amount > 0 else ""
        return f"{sign}{self.transfer.unit.format(self.lot_amount)}"


def transaction_rows(account_id: int, *, limit: int | None = None) -> Iterator[TransactionRow]:
    """The account's ledger, newest first, each transfer with its signed effect on the lots
    and the learner it was for (the ledger holds their id; the name is read now)."""
    transfers = (
        Transfer.objects.filter(account_id=account_id)
        .select_related("unit", "order")
        .prefetch_related("entries")
        .order_by("-created_at", "-id")
    )
    chosen = transfers[:limit] if limit is not None else transfers.iterator(chunk_size=500)
    for batch in batched(chosen, 500):
        ids = {t.metadata.get("learner_id") for t in batch} - {None}
        learners = dict(User.objects.filter(pk__in=ids).values_list("pk", "email"))
        for transfer in batch:
            amount = sum(e.amount for e in transfer.entries.all() if e.lot_id is not None)
            learner = learners.get(transfer.metadata.get("learner_id"), "")
            yield TransactionRow(transfer, amount, learner)


@dataclass
class MemberUsage:
    email: str
    name: str
    unit: Unit
    redemptions: int
    spent: int
    is_member: bool


def usage_by_member(account_id: int) -> list[MemberUsage]:
    """What each person spent from this account, per unit (paid redemptions; refunded ones
    gave their value back and do not count)."""
    rows = (
        Order.objects.filter(
            account_id=account_id, transfer__isnull=False, status=Order.Status.PAID
        )
        .values("learner_id", "learner__email", "learner__name", "unit_id")
        .annotate(redemptions=Count("id"), spent=Sum(F("charged") - F("refunded_amount")))
        .order_by("unit_id", "-spent", "learner__email")
    )
    units = {u.pk: u for u in Unit.objects.all()}
    members = set(
        Membership.objects.filter(account_id=account_id).values_list("user_id", flat=True)
    )
    return [
        MemberUsage(
            r["learner__email"],
            r["learner__name"],
            units[r["unit_id"]],
            r["redemptions"],
            r["spent"] or 0,
            r["learner_id"] in members,
        )
        for r in rows
    ]


def usage_by_month(account_id: int, unit: Unit, *, months: int = 12) -> list[tuple[date, int]]:
    """Value spent per calendar month (UTC) for the last `months` months, oldest first, with
    empty months included so a chart shows gaps honestly."""
    now = clock.now()
    first = _month_start(now, back=months - 1)
    spent = (
        Order.objects.filter(
            account_id=account_id,
            unit=unit,
            transfer__isnull=False,
            status=Order.Status.PAID,
            created_at__gte=first,
        )
        .annotate(month=TruncMonth("created_at"))
        .values("month")
        .annotate(total=Sum(F("charged") - F("refunded_amount")))
    )
    by_month: dict[date, int] = defaultdict(int)
    for row in spent:
        by_month[_as_date(row["month"])] += row["total"] or 0
    result = []
    for back in range(months - 1, -1, -1):
        month = _month_start(now, back=back).date()
        result.append((month, by_month.get(month, 0)))
    return result


def _month_start(moment: datetime, *, back: int) -> datetime:
    year, month = moment.year, moment.month - back
    while month <= 0:
        month += 12
        year -= 1
    return moment.replace(year=year, month=month, day=1, hour=0, minute=0, second=0, microsecond=0)


def _as_date(value: date | datetime) -> date:
    if isinstance(value, datetime):
        return value.date().replace(day=1)
    return value.replace(day=1)


def usage_units(account_id: int) -> list[Unit]:
    """Units the account holds or has spent, USD first."""
    ids = set(
        Order.objects.filter(account_id=account_id, transfer__isnull=False).values_list(
            "unit_id", flat=True
        )
    )
    ids |= set(
        TrainingAccount.objects.filter(pk=account_id).values_list("lots__unit_id", flat=True)
    )
    ids.discard(None)
    return list(Unit.objects.filter(pk__in=ids).order_by("-is_builtin", "code"))


def bookable_activities() -> QuerySet[Activity]:
    return Activity.objects.filter(is_published=True).order_by("title", "id")
