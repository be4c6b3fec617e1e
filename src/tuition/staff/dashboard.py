"""The staff home page: outstanding value (the liability), redemptions, what expires soon,
recent orders and failed notifications, each with the filtered list behind it."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from babel.dates import format_date
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tuition.core import charts, clock, l10n
from tuition.core.display import money, when

DAYS = 30


@dataclass
class Figure:
    value: str
    label: str
    url: str = ""
    note: str = ""


@dataclass
class Summary:
    outstanding: list[Figure] = field(default_factory=list)
    expiring: list[Figure] = field(default_factory=list)
    redeemed: list[Figure] = field(default_factory=list)
    redeemed_charts: list[tuple[Any, charts.Chart, str]] = field(default_factory=list)
    orders: list[dict[str, str]] = field(default_factory=list)
    orders_url: str = ""
    failures: list[Figure] = field(default_factory=list)
    shown: set[str] = field(default_factory=set)


def _can_view(request: HttpRequest, site: Any, model: Any) -> bool:
    model_admin = site._registry.get(model)
    return bool(
        model_admin
        and model_admin.has_module_permission(request)
        and model_admin.has_view_permission(request)
    )


def _short_day(day: date) -> str:
    """ "7 Dec", "7. Dez.", "7 dic" in the reader's language."""
    return format_date(day, "d MMM", locale=l10n.locale_name())


def _list(model: Any, **query: Any) -> str:
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    return f"{url}?{urlencode(query)}" if query else url


def summary(request: HttpRequest, site: Any) -> Summary:
    from tuition.checkout.models import Order
    from tuition.ledger.models import Lot, Transfer, Unit
    from tuition.notifications.models import EmailDelivery, WebhookDelivery

    now = clock.now()
    result = Summary()
    units = {u.pk: u for u in Unit.objects.all()}

    if _can_view(request, site, Lot):
        result.shown.add("credits")
        live = Lot.objects.filter(deleted_at__isnull=True, remaining__gt=0).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now)
        )
        for row in (
            live.filter(status=Lot.Status.ACTIVE)
            .values("unit")
            .annotate(total=Sum("remaining"), lots=Count("id"))
            .order_by("unit")
        ):
            unit = units[row["unit"]]
            result.outstanding.append(
                Figure(
                    money(row["total"], unit),
                    _("%(unit)s outstanding") % {"unit": unit.name},
                    _list(Lot, state="active", unit__id__exact=unit.pk),
                    ngettext(
                        "in %(count)s active credit", "in %(count)s active credits", row["lots"]
                    )
                    % {"count": row["lots"]},
                )
            )
        soon = now + timedelta(days=DAYS)
        for row in (
            live.filter(expires_at__lte=soon)
            .values("unit")
            .annotate(total=Sum("remaining"), lots=Count("id"))
            .order_by("unit")
        ):
            unit = units[row["unit"]]
            result.expiring.append(
                Figure(
                    money(row["total"], unit),
                    _("%(unit)s expiring in the next %(days)s days")
                    % {"unit": unit.name, "days": DAYS},
                    _list(Lot, expiry="soon", unit__id__exact=unit.pk),
                    ngettext("%(count)s credit", "%(count)s credits", row["lots"])
                    % {"count": row["lots"]},
                )
            )

    if _can_view(request, site, Transfer):
        result.shown.add("redeemed")
        start = (now - timedelta(days=DAYS - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
        redeems = Transfer.objects.filter(kind=Transfer.Kind.REDEEM, created_at__gte=start)
        per_day: dict[int, dict[Any, int]] = {}
        for row in (
            redeems.annotate(day=TruncDate("created_at"))
            .values("unit", "day")
            .annotate(total=Sum("amount"))
        ):
            per_day.setdefault(row["unit"], {})[row["day"]] = row["total"]
        for unit_id, days in sorted(per_day.items()):
            unit = units[unit_id]
            total = sum(days.values())
            result.redeemed.append(
                Figure(
                    money(total, unit),
                    _("%(unit)s redeemed in the last %(days)s days")
                    % {"unit": unit.name, "days": DAYS},
                    _list(
                        Transfer,
                        kind__exact="redeem",
                        unit__id__exact=unit.pk,
                        created_at__gte=start.date().isoformat(),
                    ),
                )
            )
            rows = []
            for offset in range(DAYS):
                day = (start + timedelta(days=offset)).date()
                # A label each week back from today, so the last two never crowd each other.
                label = _short_day(day) if (DAYS - 1 - offset) % 7 == 0 else ""
                value = days.get(day, 0)
                rows.append((label, value, money(value, unit) if value else ""))
            chart = charts.columns(rows, width=720, height=200)
            described = "; ".join(
                f"{_short_day((start + timedelta(days=i)).date())}: {money(v, unit)}"
                for i, (_, v, _) in enumerate(rows)
                if v
            )
            result.redeemed_charts.append((unit, chart, described))

    if _can_view(request, site, Order):
        result.shown.add("orders")
        result.orders_url = _list(Order)
        for order in Order.objects.select_related("learner", "unit").order_by("-created_at", "-id")[
            :8
        ]:
            result.orders.append(
                {
                    "number": order.number,
                    "url": reverse("admin:checkout_order_change", args=[order.pk]),
                    "when": when(order.created_at),
                    "learner": order.learner.email if order.learner_id else "—",
                    "title": order.title,
                    "charged": money(order.charged, order.unit),
                    "method": order.get_method_display(),
                    "status": order.get_status_display(),
                    "status_key": order.status,
                }
            )

    failure_labels = (
        (
            WebhookDelivery,
            lambda n: ngettext("failed webhook delivery", "failed webhook deliveries", n),
        ),
        (EmailDelivery, lambda n: ngettext("failed email delivery", "failed email deliveries", n)),
    )
    for model, describe in failure_labels:
        if _can_view(request, site, model):
            result.shown.add("failures")
            failed = model.objects.filter(status="dead").count()
            result.failures.append(
                Figure(
                    str(failed),
                    describe(failed),
                    _list(model, status__exact="dead"),
                )
            )
    return result
