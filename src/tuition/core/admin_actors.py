"""An admin list column that shows who made each row ("Cora Diaz (staff) via admin") instead
of the stored reference, resolved for the whole page at once."""

from typing import Any

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .actors import ActorView, describe, describe_one


class ActorColumnMixin:
    actor_field = "actor"
    _shown_actors: dict[str, ActorView] = {}

    def get_changelist_instance(self, request: Any) -> Any:
        changelist = super().get_changelist_instance(request)  # type: ignore[misc]
        # One lookup for the page; a row another request missed is resolved on its own.
        self._shown_actors = describe(
            getattr(row, self.actor_field) for row in changelist.result_list
        )
        return changelist

    @admin.display(description=_("who"))
    def actor_display(self, obj: Any) -> str:
        text = getattr(obj, self.actor_field) or ""
        view = self._shown_actors.get(text) or describe_one(text)
        return view.display


class ActorFieldsMixin:
    """Read-only fields that show the stored actor text of a record as people read it."""

    @admin.display(description=_("created by"))
    def created_by_display(self, obj: Any) -> str:
        return describe_one(obj.created_by).display if obj.created_by else "—"

    @admin.display(description=_("cancelled by"))
    def cancelled_by_display(self, obj: Any) -> str:
        return describe_one(obj.cancelled_by).display if obj.cancelled_by else "—"
