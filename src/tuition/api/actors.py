"""The actor of a change as the API shows it: `{"kind", "id", "display", "interface"}`."""

from typing import Any, cast

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from tuition.core.actors import ActorView, describe_one


class ActorOut(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=["user", "api-key", "job", "unknown"],
        help_text="`user` (a person), `api-key` (an integration), `job` (the system), or "
        "`unknown` where no actor was recorded.",
    )
    id = serializers.CharField(
        help_text="A reference: the person's user id, the API key's prefix or the job's name."
    )
    display = serializers.CharField(
        help_text='What people read, e.g. "Cora Diaz (staff) via admin".'
    )
    interface = serializers.ChoiceField(
        choices=["admin", "pages", "api", "command", "job", ""],
        help_text="The door the change came through; empty for records older than references.",
    )


def actor_view(field: serializers.Field, text: str | None) -> ActorView:
    """Resolve an actor text once per response (the serializer's context caches it)."""
    context = cast(dict[str, Any], field.context)
    cache: dict[str, ActorView] = context.setdefault("_actors", {})
    key = text or ""
    if key not in cache:
        cache[key] = describe_one(key)
    return cache[key]


@extend_schema_field(ActorOut)
class ActorField(serializers.Field):
    """Reads an actor reference (`Transfer.actor`, a change's actor) and shows it as `ActorOut`."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> dict[str, str]:
        return actor_view(self, value).as_dict()
