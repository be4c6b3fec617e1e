"""Staff views of the catalog. Every write calls catalog.services; token prices are entered
as text ("TT=3, LAB=1.5") so they are saved by the same service call as the item."""

from typing import Any

from django import forms
from django.contrib import admin
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tuition.core.actors import Actor
from tuition.core.admin_support import HistoryAdmin, ServiceForm, ServiceModelAdmin
from tuition.core.amounts import format_amount, parse_amount
from tuition.core.errors import ValidationError as DomainValidationError
from tuition.ledger.models import Unit

from . import services as catalog
from .models import Activity, Group, RefillPrice, Session

_PRICE_HELP = _("USD list price, e.g. 300.00.")
_PRICES_IN_TOKENS_HELP = _("Prices in token types, e.g. TT=3, LAB=1.5 (empty: none).")


def parse_token_prices(text: str) -> dict[Unit, int]:
    """Raises:
    ValidationError: an unknown unit or a bad amount."""
    prices: dict[Unit, int] = {}
    for part in (text or "").replace(";", ",").split(","):
        if not part.strip():
            continue
        code, sep, amount = part.partition("=")
        unit = Unit.objects.filter(code__iexact=code.strip(), is_builtin=False).first()
        if not sep or unit is None:
            raise DomainValidationError(
                gettext("Unknown token type in “%(price)s”.") % {"price": part.strip()},
                details={"field": "token_prices"},
            )
        prices[unit] = parse_amount(
            amount.strip(), decimals=unit.decimals, field="token_prices", allow_zero=True
        )
    return prices


def format_token_prices(obj: Activity | Group) -> str:
    return ", ".join(
        f"{p.unit.code}={format_amount(p.amount, decimals=p.unit.decimals)}"
        for p in obj.token_prices.select_related("unit").order_by("unit__code")
    )


class _ItemForm(ServiceForm):
    price = forms.CharField(label=_("Price"), help_text=_PRICE_HELP)
    token_prices = forms.CharField(
        required=False, label=_("Token prices"), help_text=_PRICES_IN_TOKENS_HELP
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["price"] = format_amount(self.instance.price, decimals=2)
            self.initial["token_prices"] = format_token_prices(self.instance)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        try:
            if data.get("price") is not None:
                data["price"] = parse_amount(
                    data["price"].strip(), decimals=2, field="price", allow_zero=True
                )
            data["token_prices"] = parse_token_prices(data.get("token_prices") or "")
        except DomainValidationError as exc:
            self.add_error(exc.details.get("field"), exc.message)
        return data

    def changes(self, names: tuple[str, ...]) -> dict[str, Any]:
        changed = set(self.changed_data)
        return {k: self.cleaned_data[k] for k in names if k in changed}


class ActivityForm(_ItemForm):
    class Meta:
        model = Activity
        fields = [
            "title",
            "description",
            "kind",
            "refund_window_days",
            "learner_can_cancel",
            "is_published",
            "external_id",
        ]

    def apply(self, *, actor: Actor) -> Activity:
        data = self.cleaned_data
        if self.instance.pk is None:
            return catalog.create_activity(
                title=data["title"],
                price=data["price"],
                description=data.get("description", ""),
                kind=data["kind"],
                refund_window_days=data.get("refund_window_days"),
                learner_can_cancel=data.get("learner_can_cancel", True),
                is_published=data.get("is_published", True),
                external_id=data.get("external_id", ""),
                token_prices=data["token_prices"],
                actor=actor,
            )
        changes = self.changes(
            (
                "title",
                "description",
                "kind",
                "refund_window_days",
                "learner_can_cancel",
                "is_published",
                "external_id",
                "price",
            )
        )
        if "token_prices" in self.changed_data:
            changes["token_prices"] = data["token_prices"]
        return catalog.update_activity(activity_id=self.instance.pk, actor=actor, **changes)


class GroupForm(_ItemForm):
    class Meta:
        model = Group
        fields = [
            "title",
            "description",
            "activities",
            "refund_window_days",
            "learner_can_cancel",
            "is_published",
            "external_id",
        ]

    def apply(self, *, actor: Actor) -> Group:
        data = self.cleaned_data
        ids = [a.pk for a in data.get("activities") or []]
        if self.instance.pk is None:
            return catalog.create_group(
                title=data["title"],
                price=data["price"],
                activity_ids=ids,
                description=data.get("description", ""),
                refund_window_days=data.get("refund_window_days"),
                learner_can_cancel=data.get("learner_can_cancel", True),
                is_published=data.get("is_published", True),
                external_id=data.get("external_id", ""),
                token_prices=data["token_prices"],
                actor=actor,
            )
        changes = self.changes(
            (
                "title",
                "description",
                "refund_window_days",
                "learner_can_cancel",
                "is_published",
                "external_id",
                "price",
            )
        )
        if "token_prices" in self.changed_data:
            changes["token_prices"] = data["token_prices"]
        if "activities" in self.changed_data:
            changes["activity_ids"] = ids
        return catalog.update_group(group_id=self.instance.pk, actor=actor, **changes)


def _price(obj: Activity | Group) -> str:
    return f"{format_amount(obj.price, decimals=2)} USD"


class PricedItemAdmin(ServiceModelAdmin, HistoryAdmin):
    """What activities and groups show alike: their prices, and no delete."""

    @admin.display(description=_("price"), ordering="price")
    def price_display(self, obj: Activity | Group) -> str:
        return _price(obj)

    @admin.display(description=_("token prices"))
    def token_prices_display(self, obj: Activity | Group) -> str:
        return format_token_prices(obj) or "—"

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False  # orders point at items; unpublish one instead

    def get_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        # The price fields are form fields, not model fields: whoever may not change the item
        # (a viewer, a commerce manager) sees them through the display methods instead.
        fields = list(super().get_fields(request, obj))
        if obj is not None and not self.has_change_permission(request, obj):
            shown = {"price": "price_display", "token_prices": "token_prices_display"}
            fields = [shown.get(name, name) for name in fields]
        return fields


@admin.register(Activity)
class ActivityAdmin(PricedItemAdmin):
    form = ActivityForm
    list_display = [
        "title",
        "kind",
        "price_display",
        "token_prices_display",
        "is_dated",
        "refund_window_days",
        "is_published",
    ]
    list_filter = ["kind", "is_dated", "is_published"]
    search_fields = ["title", "external_id"]
    fields = [
        "title",
        "description",
        "kind",
        "price",
        "token_prices",
        "refund_window_days",
        "learner_can_cancel",
        "is_published",
        "external_id",
    ]


@admin.register(Group)
class GroupAdmin(PricedItemAdmin):
    form = GroupForm
    list_display = [
        "title",
        "price_display",
        "token_prices_display",
        "refund_window_days",
        "is_published",
    ]
    list_filter = ["is_published"]
    search_fields = ["title", "external_id"]
    filter_horizontal = ["activities"]
    fields = [
        "title",
        "description",
        "activities",
        "price",
        "token_prices",
        "refund_window_days",
        "learner_can_cancel",
        "is_published",
        "external_id",
    ]


class SessionForm(ServiceForm):
    class Meta:
        model = Session
        fields = [
            "activity",
            "starts_at",
            "ends_at",
            "timezone",
            "location",
            "capacity",
            "is_cancelled",
        ]

    def apply(self, *, actor: Actor) -> Session:
        data = self.cleaned_data
        if self.instance.pk is None:
            return catalog.create_session(
                activity_id=data["activity"].pk,
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                capacity=data["capacity"],
                timezone=data.get("timezone") or "UTC",
                location=data.get("location") or "",
                actor=actor,
            )
        changes = {
            k: data[k]
            for k in ("starts_at", "ends_at", "timezone", "location", "capacity", "is_cancelled")
            if k in self.changed_data
        }
        return catalog.update_session(session_id=self.instance.pk, actor=actor, **changes)


@admin.register(Session)
class SessionAdmin(ServiceModelAdmin, HistoryAdmin):
    form = SessionForm
    list_display = [
        "activity",
        "starts_at",
        "ends_at",
        "timezone",
        "location",
        "capacity",
        "booked",
        "seats_left",
        "is_cancelled",
    ]
    list_filter = ["is_cancelled", "activity"]
    list_select_related = ["activity"]
    search_fields = ["activity__title", "location"]
    date_hierarchy = "starts_at"

    def get_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        fields = list(super().get_fields(request, obj))
        # A session being made has nothing booked yet: no seat counts on the add form.
        return [f for f in fields if f not in ("booked", "seats_left")] if obj is None else fields

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        return [] if obj is None else ["activity", "booked", "seats_left"]

    @admin.display(description=_("seats left"))
    def seats_left(self, obj: Session) -> int | str:
        if obj.pk is None or obj.capacity is None:
            return "—"
        return obj.seats_left

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False  # bookings point at sessions; cancel one instead


class RefillPriceForm(ServiceForm):
    unit_price = forms.CharField(help_text=_("USD per whole unit, e.g. 100.00."))

    class Meta:
        model = RefillPrice
        fields = ["unit"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["unit_price"] = format_amount(self.instance.unit_price, decimals=2)

    def apply(self, *, actor: Actor) -> RefillPrice:
        unit = self.cleaned_data.get("unit") or self.instance.unit
        price = parse_amount(
            self.cleaned_data["unit_price"].strip(), decimals=2, field="unit_price"
        )
        return catalog.set_refill_price(unit=unit, unit_price=price, actor=actor)


@admin.register(RefillPrice)
class RefillPriceAdmin(ServiceModelAdmin, HistoryAdmin):
    form = RefillPriceForm
    list_display = ["unit", "unit_price_display", "is_active"]

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        return [] if obj is None else ["unit"]

    @admin.display(description=_("USD per unit"))
    def unit_price_display(self, obj: RefillPrice) -> str:
        return format_amount(obj.unit_price, decimals=2)

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
