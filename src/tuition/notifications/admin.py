"""Staff views of webhooks and notification deliveries: read-only (subscriptions are made
through the API, which checks their URL); the secrets are never shown."""

from django.contrib import admin
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tuition.core.admin_actors import ActorFieldsMixin
from tuition.core.admin_support import ReadOnlyAdmin
from tuition.core.display import when

from .models import EmailDelivery, WebhookDelivery, WebhookSubscription


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(ActorFieldsMixin, ReadOnlyAdmin):
    list_display = ["url", "description", "account", "kinds", "is_active", "created"]
    list_filter = ["is_active"]
    search_fields = ["url", "description", "account__name"]
    fields = [
        "url",
        "description",
        "account",
        "kinds",
        "is_active",
        "created",
        "created_by_display",
    ]
    readonly_fields = fields

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return super().get_queryset(request).filter(deleted_at__isnull=True)

    @admin.display(description=_("events"))
    def kinds(self, obj: WebhookSubscription) -> str:
        return ", ".join(obj.event_kinds) or gettext("Every event")

    @admin.display(description=_("created"), ordering="created_at")
    def created(self, obj: WebhookSubscription) -> str:
        return when(obj.created_at)


class _DeliveryAdmin(ReadOnlyAdmin):
    list_filter = ["status"]

    @admin.display(description=_("created"), ordering="created_at")
    def created(self, obj) -> str:  # type: ignore[no-untyped-def]
        return when(obj.created_at)

    @admin.display(description=_("next attempt"), ordering="next_attempt_at")
    def next_attempt(self, obj) -> str:  # type: ignore[no-untyped-def]
        return when(obj.next_attempt_at) if obj.status in ("pending", "sending") else "—"

    @admin.display(description=_("event"))
    def event_kind(self, obj) -> str:  # type: ignore[no-untyped-def]
        return obj.event.kind


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(_DeliveryAdmin):
    list_display = [
        "id",
        "event_kind",
        "subscription",
        "status",
        "attempts",
        "response_code",
        "created",
        "next_attempt",
    ]
    list_select_related = ["event", "subscription"]
    search_fields = ["subscription__url", "event__kind"]
    fields = [
        "event_kind",
        "subscription",
        "status",
        "attempts",
        "response_code",
        "last_error",
        "created",
        "next_attempt",
    ]
    readonly_fields = fields


@admin.register(EmailDelivery)
class EmailDeliveryAdmin(_DeliveryAdmin):
    list_display = ["id", "event_kind", "email", "status", "attempts", "created", "next_attempt"]
    list_select_related = ["event"]
    search_fields = ["email", "event__kind"]
    fields = ["event_kind", "email", "status", "attempts", "last_error", "created", "next_attempt"]
    readonly_fields = fields
