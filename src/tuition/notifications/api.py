"""REST endpoints of webhooks: subscriptions of integrating systems, their signing secrets,
and the delivery log with a resend.

Only the provider's integrations and staff manage webhooks (keys need the `admin` scope).
The signing secret is shown when a subscription is made and when it is rotated, never in
lists.
"""

from datetime import timedelta
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from tuition.api.access import parse_id, visible_object
from tuition.api.base import ApiView, IdOut, PageQuery, errors, page_of
from tuition.api.fields import (
    IdField,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    StrictSerializer,
)
from tuition.api.models import SCOPE_ADMIN

from . import events, selectors, services
from .models import DeliveryStatus, WebhookSubscription


class SubscriptionIn(StrictSerializer):
    url = StrictCharField(max_length=2000)
    event_kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=events.KINDS),
        required=False,
        default=list,
        max_length=len(events.KINDS),
        help_text="Empty: every kind.",
    )
    account = IdField(
        required=False,
        allow_null=True,
        help_text="Only this account's events; empty: every account's.",
    )
    description = StrictCharField(max_length=200, required=False, default="", allow_blank=True)
    is_active = StrictBooleanField(required=False, default=True)


class SubscriptionPatchIn(StrictSerializer):
    url = StrictCharField(max_length=2000, required=False)
    event_kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=events.KINDS),
        required=False,
        max_length=len(events.KINDS),
    )
    description = StrictCharField(max_length=200, required=False, allow_blank=True)
    is_active = StrictBooleanField(required=False)


class RotateSecretIn(StrictSerializer):
    grace_hours = StrictIntegerField(
        required=False,
        default=24,
        max_value=24 * 30,
        help_text="How long the old secret keeps signing too.",
    )


class SubscriptionOut(serializers.Serializer):
    id = IdOut()
    url = serializers.CharField()
    event_kinds = serializers.ListField(child=serializers.ChoiceField(choices=events.KINDS))
    account = IdOut(source="account_id", allow_null=True, help_text="Null: every account's.")
    description = serializers.CharField()
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class SubscriptionWithSecretOut(SubscriptionOut):
    secret = serializers.CharField()
    previous_secret_expires_at = serializers.DateTimeField(allow_null=True)


class DeliveryOut(serializers.Serializer):
    id = IdOut()
    message_id = serializers.CharField()
    event = IdOut(source="event_id")
    event_kind = serializers.CharField(source="event.kind")
    status = serializers.ChoiceField(choices=DeliveryStatus.values)
    attempts = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField()
    response_code = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField()
    sent_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


def _subscription(subscription_id: Any) -> WebhookSubscription:
    return visible_object(selectors.subscriptions(), subscription_id, what="webhook subscription")


class WebhookQuery(PageQuery):
    account = StrictCharField(max_length=40, required=False, help_text="Only this account's.")


class DeliveryQuery(PageQuery):
    status = serializers.ChoiceField(choices=DeliveryStatus.values, required=False)


class WebhookListView(ApiView):
    scopes = {"GET": SCOPE_ADMIN, "POST": SCOPE_ADMIN}
    provider_only = "*"
    queries = {"GET": WebhookQuery}

    @extend_schema(
        operation_id="webhooks_list",
        responses={200: page_of(SubscriptionOut, "WebhookPage"), **errors(404)},
    )
    def get(self, request):  # type: ignore[no-untyped-def]
        account = self.query.get("account")
        found = selectors.subscriptions(
            account_id=None if account is None else (parse_id(account) or 0)
        )
        return self.paginated(found, SubscriptionOut)

    @extend_schema(
        operation_id="webhooks_create",
        request=SubscriptionIn,
        responses={201: SubscriptionWithSecretOut, **errors()},
    )
    def post(self, request):  # type: ignore[no-untyped-def]
        data = SubscriptionIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        subscription = services.create_subscription(
            account_id=values.pop("account", None), **values, actor=self.caller().actor
        )
        return Response(
            SubscriptionWithSecretOut(subscription).data, status=status.HTTP_201_CREATED
        )


class WebhookDetailView(ApiView):
    scopes = {"GET": SCOPE_ADMIN, "PATCH": SCOPE_ADMIN, "DELETE": SCOPE_ADMIN}
    provider_only = "*"

    @extend_schema(
        operation_id="webhooks_retrieve", responses={200: SubscriptionOut, **errors(404)}
    )
    def get(self, request, subscription_id):  # type: ignore[no-untyped-def]
        return Response(SubscriptionOut(_subscription(subscription_id)).data)

    @extend_schema(
        operation_id="webhooks_update",
        request=SubscriptionPatchIn,
        responses={200: SubscriptionOut, **errors(404)},
    )
    def patch(self, request, subscription_id):  # type: ignore[no-untyped-def]
        subscription = _subscription(subscription_id)
        data = SubscriptionPatchIn(data=request.data)
        data.is_valid(raise_exception=True)
        updated = services.update_subscription(
            subscription_id=subscription.pk, actor=self.caller().actor, **data.validated_data
        )
        return Response(SubscriptionOut(updated).data)

    @extend_schema(operation_id="webhooks_destroy", responses={204: None, **errors(404)})
    def delete(self, request, subscription_id):  # type: ignore[no-untyped-def]
        subscription = _subscription(subscription_id)
        services.delete_subscription(subscription_id=subscription.pk, actor=self.caller().actor)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookRotateSecretView(ApiView):
    scopes = {"POST": SCOPE_ADMIN}
    provider_only = "*"

    @extend_schema(
        operation_id="webhooks_rotate_secret",
        request=RotateSecretIn,
        responses={200: SubscriptionWithSecretOut, **errors(404)},
    )
    def post(self, request, subscription_id):  # type: ignore[no-untyped-def]
        subscription = _subscription(subscription_id)
        data = RotateSecretIn(data=request.data)
        data.is_valid(raise_exception=True)
        rotated = services.rotate_secret(
            subscription_id=subscription.pk,
            actor=self.caller().actor,
            grace=timedelta(hours=data.validated_data["grace_hours"]),
        )
        return Response(SubscriptionWithSecretOut(rotated).data)


class WebhookDeliveryListView(ApiView):
    scopes = {"GET": SCOPE_ADMIN}
    provider_only = "*"
    queries = {"GET": DeliveryQuery}

    @extend_schema(
        operation_id="webhooks_deliveries_list",
        responses={200: page_of(DeliveryOut, "WebhookDeliveryPage"), **errors(404)},
    )
    def get(self, request, subscription_id):  # type: ignore[no-untyped-def]
        subscription = _subscription(subscription_id)
        deliveries = selectors.subscription_deliveries(subscription_id=subscription.pk)
        if (wanted := self.query.get("status")) is not None:
            deliveries = deliveries.filter(status=wanted)
        return self.paginated(deliveries, DeliveryOut)


class WebhookResendView(ApiView):
    scopes = {"POST": SCOPE_ADMIN}
    provider_only = "*"

    @extend_schema(
        operation_id="webhooks_deliveries_resend",
        request=None,
        responses={202: DeliveryOut, **errors(404)},
    )
    def post(self, request, subscription_id, delivery_id):  # type: ignore[no-untyped-def]
        subscription = _subscription(subscription_id)
        delivery = visible_object(
            selectors.subscription_deliveries(subscription_id=subscription.pk),
            delivery_id,
            what="webhook delivery",
        )
        resent = services.retry_webhook_delivery(delivery_id=delivery.pk, actor=self.caller().actor)
        return Response(DeliveryOut(resent).data, status=status.HTTP_202_ACCEPTED)
