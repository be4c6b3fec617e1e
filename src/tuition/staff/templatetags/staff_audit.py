"""Who made a change, as staff read it, in change history tables."""

from typing import Any

from django import template

from tuition.core.actors import history_changed_by, history_reason
from tuition.core.display import when

register = template.Library()


@register.filter
def changed_by(record: Any) -> str:
    return history_changed_by(record)


@register.filter
def change_reason(record: Any) -> str:
    return history_reason(record)


@register.filter
def staff_when(moment: Any) -> str:
    return when(moment)
