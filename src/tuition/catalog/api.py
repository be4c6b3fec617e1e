"""REST endpoints of the catalog: activities, groups (programs, paths, bundles) and sessions.

Anyone signed in may read what is published (learners browse the catalog); provider staff and
integrations see everything and are the only ones who write.
"""

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response

from tuition.api.access import Caller, parse_id, visible_object
from tuition.api.base import (
    ApiView,
    IdOut,
    Money,
    PageQuery,
    apply_ordering,
    errors,
    money,
    ordering,
    page_of,
)
from tuition.api.fields import (
    AmountField,
    AwareDateTimeField,
    IdField,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    StrictSerializer,
)
from tuition.api.models import SCOPE_ADMIN
from tuition.core import clock
from tuition.core.amounts import format_amount, parse_amount
from tuition.core.errors import ValidationError
from tuition.ledger.models import Unit

from . import services
from .models import Activity, Group, Session

# What both kinds of item share


class TokenPriceIn(StrictSerializer):
    """A price in a token unit: the same shape as Money."""

    amount = AmountField(help_text="In the unit's precision.")
    unit = StrictCharField(max_length=16, help_text="A token type's code.")


def _token_prices(values: list[dict[str, Any]]) -> dict[Unit, int]:
    """Raises:
    ValidationError: an unknown unit, one given twice, or a bad amount."""
    prices: dict[Unit, int] = {}
    for entry in values:
        unit = Unit.objects.filter(code__iexact=entry["unit"], is_active=True).first()
        if unit is None:
            raise ValidationError("No such unit.", details={"field": "token_prices"})
        if unit in prices:
            raise ValidationError("A unit appears twice.", details={"field": "token_prices"})
        prices[unit] = parse_amount(
            entry["amount"], decimals=unit.decimals, field="token_prices", allow_zero=True
        )
    return prices


def _item_changes(values: dict[str, Any]) -> dict[str, Any]:
    """Validated input as service arguments: amounts in minor units, units resolved."""
    changes = dict(values)
    if "price" in changes:
        changes["price"] = parse_amount(
            changes["price"], decimals=2, field="price", allow_zero=True
        )
    if "token_prices" in changes:
        changes["token_prices"] = _token_prices(changes["token_prices"])
    return changes


class ItemOut(serializers.Serializer):
    id = IdOut()
    title = serializers.CharField()
    description = serializers.CharField()
    price = serializers.SerializerMethodField()
    token_prices = serializers.SerializerMethodField()
    refund_window_days = serializers.IntegerField(allow_null=True)
    learner_can_cancel = serializers.BooleanField()
    is_published = serializers.BooleanField()
    external_id = serializers.CharField()
    created_at = serializers.DateTimeField()

    @extend_schema_field(Money(help_text="The USD list price."))
    def get_price(self, item: Activity | Group) -> dict[str, str]:
        return {"amount": format_amount(item.price, decimals=2), "unit": Unit.USD}

    @extend_schema_field(Money(many=True, help_text="Prices in token units, by unit code."))
    def get_token_prices(self, item: Activity | Group) -> list[dict[str, str]]:
        prices = sorted(item.token_prices.all(), key=lambda p: p.unit.code)
        return [money(p.amount, p.unit) for p in prices]


class ItemIn(StrictSerializer):
    title = StrictCharField(max_length=200)
    description = StrictCharField(max_length=20000, required=False, default="", allow_blank=True)
    price = AmountField(required=False, default="0", usd=True, help_text="USD list price.")
    token_prices = TokenPriceIn(many=True, required=False, default=list)
    refund_window_days = StrictIntegerField(
        required=False, allow_null=True, default=None, max_value=3650
    )
    learner_can_cancel = StrictBooleanField(required=False, default=True)
    is_published = StrictBooleanField(required=False, default=True)
    external_id = StrictCharField(max_length=200, required=False, default="", allow_blank=True)


class ItemPatchIn(StrictSerializer):
    title = StrictCharField(max_length=200, required=False)
    description = StrictCharField(max_length=20000, required=False, allow_blank=True)
    price = AmountField(required=False, usd=True, help_text="USD list price.")
    token_prices = TokenPriceIn(many=True, required=False)
    refund_window_days = StrictIntegerField(required=False, allow_null=True, max_value=3650)
    learner_can_cancel = StrictBooleanField(required=False)
    is_published = StrictBooleanField(required=False)
    external_id = StrictCharField(max_length=200, required=False, allow_blank=True)


# Activities


class ActivityIn(ItemIn):
    kind = serializers.ChoiceField(
        choices=Activity.Kind.values, required=False, default=Activity.Kind.COURSE
    )


class ActivityPatchIn(ItemPatchIn):
    kind = serializers.ChoiceField(choices=Activity.Kind.values, required=False)


class ActivityOut(ItemOut):
    kind = serializers.ChoiceField(choices=Activity.Kind.values)
    is_dated = serializers.BooleanField()


def _activities(who: Caller):  # type: ignore[no-untyped-def]
    activities = Activity.objects.prefetch_related("token_prices__unit")
    if not who.is_provider:
        activities = activities.filter(is_published=True)
    return activities.order_by("title", "id")


def _activity_out(activity_id: int) -> dict[str, Any]:
    activity = Activity.objects.prefetch_related("token_prices__unit").get(pk=activity_id)
    return ActivityOut(activity).data


class ItemQuery(PageQuery):
    external_id = StrictCharField(max_length=200, required=False)
    ordering = ordering("title", "created_at", default="title")


class ActivityQuery(ItemQuery):
    kind = serializers.ChoiceField(choices=Activity.Kind.values, required=False)


class ActivityListView(ApiView):
    scopes = {"POST": SCOPE_ADMIN}
    provider_only = {"POST"}
    queries = {"GET": ActivityQuery}

    @extend_schema(
        operation_id="activities_list",
        responses={200: page_of(ActivityOut, "ActivityPage"), **errors(404)},
    )
    def get(self, request):  # type: ignore[no-untyped-def]
        activities = apply_ordering(_activities(self.caller()), self.query["ordering"])
        if (kind := self.query.get("kind")) is not None:
            activities = activities.filter(kind=kind)
        if (external_id := self.query.get("external_id")) is not None:
            activities = activities.filter(external_id=external_id)
        return self.paginated(activities, ActivityOut)

    @extend_schema(
        operation_id="activities_create",
        request=ActivityIn,
        responses={201: ActivityOut, **errors()},
    )
    def post(self, request):  # type: ignore[no-untyped-def]
        data = ActivityIn(data=request.data)
        data.is_valid(raise_exception=True)
        activity = services.create_activity(
            **_item_changes(data.validated_data), actor=self.caller().actor
        )
        return Response(_activity_out(activity.pk), status=status.HTTP_201_CREATED)


class ActivityDetailView(ApiView):
    scopes = {"PATCH": SCOPE_ADMIN}
    provider_only = {"PATCH"}

    @extend_schema(operation_id="activities_retrieve", responses={200: ActivityOut, **errors(404)})
    def get(self, request, activity_id):  # type: ignore[no-untyped-def]
        return Response(
            ActivityOut(
                visible_object(_activities(self.caller()), activity_id, what="activity")
            ).data
        )

    @extend_schema(
        operation_id="activities_update",
        request=ActivityPatchIn,
        responses={200: ActivityOut, **errors(404)},
    )
    def patch(self, request, activity_id):  # type: ignore[no-untyped-def]
        activity = visible_object(_activities(self.caller()), activity_id, what="activity")
        data = ActivityPatchIn(data=request.data)
        data.is_valid(raise_exception=True)
        services.update_activity(
            activity_id=activity.pk, actor=self.caller().actor, **_item_changes(data.validated_data)
        )
        return Response(_activity_out(activity.pk))


# Groups


class GroupIn(ItemIn):
    activities = serializers.ListField(
        child=IdField(), required=False, default=list, max_length=500
    )


class GroupPatchIn(ItemPatchIn):
    activities = serializers.ListField(child=IdField(), required=False, max_length=500)


class GroupOut(ItemOut):
    activities = serializers.SerializerMethodField()

    @extend_schema_field(
        serializers.ListField(child=serializers.CharField(), help_text="Ids of its activities.")
    )
    def get_activities(self, group: Group) -> list[str]:
        return [str(a.pk) for a in sorted(group.activities.all(), key=lambda a: a.pk)]


def _groups(who: Caller):  # type: ignore[no-untyped-def]
    groups = Group.objects.prefetch_related("token_prices__unit", "activities")
    if not who.is_provider:
        groups = groups.filter(is_published=True)
    return groups.order_by("title", "id")


def _group_arguments(values: dict[str, Any]) -> dict[str, Any]:
    changes = _item_changes(values)
    if "activities" in changes:
        changes["activity_ids"] = changes.pop("activities")
    return changes


def _group_out(group_id: int) -> dict[str, Any]:
    group = Group.objects.prefetch_related("token_prices__unit", "activities").get(pk=group_id)
    return GroupOut(group).data


class GroupListView(ApiView):
    scopes = {"POST": SCOPE_ADMIN}
    provider_only = {"POST"}
    queries = {"GET": ItemQuery}

    @extend_schema(
        operation_id="groups_list",
        responses={200: page_of(GroupOut, "GroupPage"), **errors(404)},
    )
    def get(self, request):  # type: ignore[no-untyped-def]
        groups = apply_ordering(_groups(self.caller()), self.query["ordering"])
        if (external_id := self.query.get("external_id")) is not None:
            groups = groups.filter(external_id=external_id)
        return self.paginated(groups, GroupOut)

    @extend_schema(
        operation_id="groups_create", request=GroupIn, responses={201: GroupOut, **errors()}
    )
    def post(self, request):  # type: ignore[no-untyped-def]
        data = GroupIn(data=request.data)
        data.is_valid(raise_exception=True)
        group = services.create_group(
            **_group_arguments(data.validated_data), actor=self.caller().actor
        )
        return Response(_group_out(group.pk), status=status.HTTP_201_CREATED)


class GroupDetailView(ApiView):
    scopes = {"PATCH": SCOPE_ADMIN}
    provider_only = {"PATCH"}

    @extend_schema(operation_id="groups_retrieve", responses={200: GroupOut, **errors(404)})
    def get(self, request, group_id):  # type: ignore[no-untyped-def]
        return Response(
            GroupOut(visible_object(_groups(self.caller()), group_id, what="group")).data
        )

    @extend_schema(
        operation_id="groups_update", request=GroupPatchIn, responses={200: GroupOut, **errors(404)}
    )
    def patch(self, request, group_id):  # type: ignore[no-untyped-def]
        group = visible_object(_groups(self.caller()), group_id, what="group")
        data = GroupPatchIn(data=request.data)
        data.is_valid(raise_exception=True)
        services.update_group(
            group_id=group.pk, actor=self.caller().actor, **_group_arguments(data.validated_data)
        )
        return Response(_group_out(group.pk))


# Sessions


class SessionIn(StrictSerializer):
    activity = IdField()
    starts_at = AwareDateTimeField()
    ends_at = AwareDateTimeField()
    timezone = StrictCharField(max_length=64, required=False, default="UTC")
    capacity = StrictIntegerField(min_value=1, max_value=100000)
    location = StrictCharField(max_length=200, required=False, default="", allow_blank=True)


class SessionPatchIn(StrictSerializer):
    starts_at = AwareDateTimeField(required=False)
    ends_at = AwareDateTimeField(required=False)
    timezone = StrictCharField(max_length=64, required=False)
    capacity = StrictIntegerField(required=False, min_value=1, max_value=100000)
    location = StrictCharField(max_length=200, required=False, allow_blank=True)
    is_cancelled = StrictBooleanField(required=False)


class SessionOut(serializers.Serializer):
    id = IdOut()
    activity = IdOut(source="activity_id")
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    timezone = serializers.CharField()
    location = serializers.CharField()
    capacity = serializers.IntegerField()
    booked = serializers.IntegerField()
    seats_left = serializers.IntegerField()
    is_cancelled = serializers.BooleanField()
    created_at = serializers.DateTimeField()


def _sessions(who: Caller):  # type: ignore[no-untyped-def]
    sessions = Session.objects.all()
    if not who.is_provider:
        sessions = sessions.filter(activity__is_published=True, is_cancelled=False)
    return sessions.order_by("starts_at", "id")


class SessionQuery(PageQuery):
    activity = StrictCharField(max_length=40, required=False, help_text="Only its sessions.")
    upcoming = serializers.ChoiceField(
        choices=["true", "false"], required=False, help_text="`true`: only those not started."
    )
    ordering = ordering("starts_at", default="starts_at")


class SessionListView(ApiView):
    scopes = {"POST": SCOPE_ADMIN}
    provider_only = {"POST"}
    queries = {"GET": SessionQuery}

    @extend_schema(
        operation_id="sessions_list",
        responses={200: page_of(SessionOut, "SessionPage"), **errors(404)},
    )
    def get(self, request):  # type: ignore[no-untyped-def]
        sessions = apply_ordering(_sessions(self.caller()), self.query["ordering"])
        if (activity := self.query.get("activity")) is not None:
            sessions = sessions.filter(activity_id=parse_id(activity) or 0)
        if self.query.get("upcoming") == "true":
            sessions = sessions.filter(starts_at__gt=clock.now())
        return self.paginated(sessions, SessionOut)

    @extend_schema(
        operation_id="sessions_create",
        request=SessionIn,
        responses={201: SessionOut, **errors(404)},
    )
    def post(self, request):  # type: ignore[no-untyped-def]
        data = SessionIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        session = services.create_session(
            activity_id=values.pop("activity"), **values, actor=self.caller().actor
        )
        return Response(SessionOut(session).data, status=status.HTTP_201_CREATED)


class SessionDetailView(ApiView):
    scopes = {"PATCH": SCOPE_ADMIN}
    provider_only = {"PATCH"}

    @extend_schema(operation_id="sessions_retrieve", responses={200: SessionOut, **errors(404)})
    def get(self, request, session_id):  # type: ignore[no-untyped-def]
        return Response(
            SessionOut(visible_object(_sessions(self.caller()), session_id, what="session")).data
        )

    @extend_schema(
        operation_id="sessions_update",
        request=SessionPatchIn,
        responses={200: SessionOut, **errors(404)},
    )
    def patch(self, request, session_id):  # type: ignore[no-untyped-def]
        session = visible_object(_sessions(self.caller()), session_id, what="session")
        data = SessionPatchIn(data=request.data)
        data.is_valid(raise_exception=True)
        updated = services.update_session(
            session_id=session.pk, actor=self.caller().actor, **data.validated_data
        )
        return Response(SessionOut(updated).data)
