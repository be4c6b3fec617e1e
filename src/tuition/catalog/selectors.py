"""Reads of the catalog."""

from dataclasses import dataclass

from django.db.models import QuerySet

from tuition.core import clock
from tuition.ledger.models import Unit

from .models import Activity, Group, Session, TokenPrice


@dataclass(frozen=True)
class Item:
    """An activity or a group, as checkout sees it."""

    kind: str  # "activity" | "group"
    obj: Activity | Group

    @property
    def pk(self) -> int:
        return self.obj.pk

    @property
    def title(self) -> str:
        return self.obj.title

    @property
    def list_price(self) -> int:
        return self.obj.price


def price_in_unit(item: Item, unit: Unit) -> int | None:
    """The item's price in `unit` (minor units), or None when it has none."""
    if unit.code == Unit.USD:
        return item.obj.price
    lookup = {"activity_id": item.pk} if item.kind == "activity" else {"group_id": item.pk}
    return TokenPrice.objects.filter(unit=unit, **lookup).values_list("amount", flat=True).first()


def published_activities() -> QuerySet[Activity]:
    return Activity.objects.filter(is_published=True).prefetch_related("token_prices__unit")


def published_groups() -> QuerySet[Group]:
    return Group.objects.filter(is_published=True).prefetch_related(
        "activities", "token_prices__unit"
    )


def upcoming_sessions(activity_id: int) -> QuerySet[Session]:
    """Sessions a learner may still book (full ones included, shown as full)."""
    return Session.objects.filter(
        activity_id=activity_id, is_cancelled=False, starts_at__gt=clock.now()
    ).order_by("starts_at", "id")


def dated_activities_of(item: Item) -> list[Activity]:
    if item.kind == "activity":
        return [item.obj] if item.obj.is_dated else []  # type: ignore[list-item]
    return list(item.obj.activities.filter(is_dated=True).order_by("pk"))  # type: ignore[union-attr]
