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


def upcoming_sessions(activity_id: int) -> QuerySet[Session]:
    """Sessions a learner may still book (full ones included, shown as full)."""
    return Session.objects.filter(
        activity_id=activity_id, is_cancelled=False, starts_at__gt=clock.now()
    ).order_by("starts_at", "id")
