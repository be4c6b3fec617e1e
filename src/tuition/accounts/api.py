"""REST endpoints of training accounts: accounts, members, balances."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response

from tuition.accounts.access import account_for, visible_accounts
from tuition.api.access import visible_object
from tuition.api.base import (
    ApiView,
    IdOut,
    MoneyOut,
    PageQuery,
    apply_ordering,
    errors,
    ordering,
    page_of,
)
from tuition.api.fields import (
    StrictBooleanField,
    StrictCharField,
    StrictEmailField,
    StrictSerializer,
)
from tuition.api.models import SCOPE_CREDITS_READ, SCOPE_CREDITS_WRITE
from tuition.ledger.selectors import get_balances

from . import services
from .forecasts import Forecast, account_forecasts
from .models import Membership, TrainingAccount

# Accounts


class AccountIn(StrictSerializer):
    name = StrictCharField(max_length=200)
    external_id = StrictCharField(max_length=200, required=False, allow_null=True, allow_blank=True)
    owners = serializers.ListField(
        child=StrictEmailField(), required=False, max_length=50, default=list
    )
    redeemers = serializers.ChoiceField(
        choices=TrainingAccount.RedeemerPolicy.values, required=False, default="anyone"
    )


class AccountOut(serializers.Serializer):
    id = IdOut()
    name = serializers.CharField()
    external_id = serializers.CharField(allow_null=True)
    redeemers = serializers.CharField(source="redeemer_policy")
    personal = serializers.BooleanField(source="is_personal")
    created_at = serializers.DateTimeField()


class AccountQuery(PageQuery):
    external_id = StrictCharField(
        max_length=200, required=False, help_text="Only the account with this external ID."
    )
    ordering = ordering("name", "created_at", default="name")


class AccountListView(ApiView):
    scopes = {"GET": SCOPE_CREDITS_READ, "POST": SCOPE_CREDITS_WRITE}
    provider_only = {"POST"}
    queries = {"GET": AccountQuery}

    @extend_schema(
        operation_id="accounts_list",
        responses={200: page_of(AccountOut, "AccountPage"), **errors(404)},
    )
    def get(self, request):  # type: ignore[no-untyped-def]
        accounts = apply_ordering(visible_accounts(self.caller()), self.query["ordering"])
        if (external_id := self.query.get("external_id")) is not None:
            accounts = accounts.filter(external_id=external_id)
        return self.paginated(accounts, AccountOut)

    @extend_schema(
        operation_id="accounts_create", request=AccountIn, responses={201: AccountOut, **errors()}
    )
    def post(self, request):  # type: ignore[no-untyped-def]
        data = AccountIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        account = services.create_account(
            name=values["name"],
            owners=values["owners"],
            external_id=values.get("external_id") or None,
            redeemer_policy=values["redeemers"],
            actor=self.caller().actor,
        )
        return Response(AccountOut(account).data, status=status.HTTP_201_CREATED)


class AccountDetailView(ApiView):
    scopes = {"GET": SCOPE_CREDITS_READ}

    @extend_schema(operation_id="accounts_retrieve", responses={200: AccountOut, **errors(404)})
    def get(self, request, account_id):  # type: ignore[no-untyped-def]
        return Response(AccountOut(account_for(self.caller(), account_id)).data)


# Members


class MemberIn(StrictSerializer):
    email = StrictEmailField()
    role = serializers.ChoiceField(choices=Membership.Role.values, required=False, default="member")
    can_view_balance = StrictBooleanField(required=False, default=False)
    notify = StrictBooleanField(required=False, default=False)


class MemberOut(serializers.Serializer):
    id = IdOut()
    email = serializers.EmailField(source="user.email")
    name = serializers.CharField(source="user.name")
    role = serializers.CharField()
    can_view_balance = serializers.BooleanField()
    notify = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class MemberListView(ApiView):
    scopes = {"GET": SCOPE_CREDITS_READ, "POST": SCOPE_CREDITS_WRITE}
    queries = {"GET": PageQuery}

    @extend_schema(
        operation_id="accounts_members_list",
        responses={200: page_of(MemberOut, "MemberPage"), **errors(404)},
    )
    def get(self, request, account_id):  # type: ignore[no-untyped-def]
        account = account_for(self.caller(), account_id)
        members = account.memberships.select_related("user").order_by("role", "id")
        return self.paginated(members, MemberOut)

    @extend_schema(
        operation_id="accounts_members_create",
        request=MemberIn,
        responses={201: MemberOut, **errors(404, 409)},
    )
    def post(self, request, account_id):  # type: ignore[no-untyped-def]
        account = account_for(self.caller(), account_id)
        data = MemberIn(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.add_member(
            account=account, **data.validated_data, actor=self.caller().actor
        )
        return Response(MemberOut(membership).data, status=status.HTTP_201_CREATED)


class MemberDetailView(ApiView):
    scopes = {"GET": SCOPE_CREDITS_READ, "DELETE": SCOPE_CREDITS_WRITE}

    def _membership(self, account_id, member_id):  # type: ignore[no-untyped-def]
        account = account_for(self.caller(), account_id)
        return visible_object(account.memberships.select_related("user"), member_id, what="member")

    @extend_schema(
        operation_id="accounts_members_retrieve", responses={200: MemberOut, **errors(404)}
    )
    def get(self, request, account_id, member_id):  # type: ignore[no-untyped-def]
        return Response(MemberOut(self._membership(account_id, member_id)).data)

    @extend_schema(operation_id="accounts_members_destroy", responses={204: None, **errors(404)})
    def delete(self, request, account_id, member_id):  # type: ignore[no-untyped-def]
        services.remove_member(
            membership=self._membership(account_id, member_id), actor=self.caller().actor
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


# Balances


class LotBalanceOut(serializers.Serializer):
    id = IdOut()
    remaining = MoneyOut()
    redeemable_value = MoneyOut()
    expires_at = serializers.DateTimeField(allow_null=True)
    status = serializers.CharField()


class BalanceOut(serializers.Serializer):
    unit = serializers.CharField(source="unit.code")
    available = MoneyOut()
    inactive = MoneyOut()
    held = MoneyOut(help_text="Reserved by redemptions waiting for an owner's approval.")
    lots = LotBalanceOut(many=True)


class BalancesView(ApiView):
    scopes = {"GET": SCOPE_CREDITS_READ}

    @extend_schema(
        operation_id="accounts_balances", responses={200: BalanceOut(many=True), **errors(404)}
    )
    def get(self, request, account_id):  # type: ignore[no-untyped-def]
        account = account_for(self.caller(), account_id, balance=True)
        return Response(BalanceOut(get_balances(account_id=account.pk), many=True).data)


# Forecast (when the balance runs out at the recent rate, what expires unused)


class ExpiringOut(serializers.Serializer):
    on = serializers.DateField(help_text="The day the lots expire (provider's time zone).")
    amount = MoneyOut(unit_attr="unit", help_text="Value still in them then, at this rate.")


class ForecastOut(serializers.Serializer):
    unit = serializers.CharField(source="unit.code")
    available = MoneyOut(help_text="Available now.")
    usage_90_days = MoneyOut(
        source="usage", help_text="Net value redeemed in the last 90 days (the rate)."
    )
    runs_out_on = serializers.DateField(
        allow_null=True,
        help_text="The day the available balance reaches zero at that rate; null when nothing "
        "was used lately (or not within three years).",
    )
    expiring = serializers.SerializerMethodField()

    @extend_schema_field(ExpiringOut(many=True))
    def get_expiring(self, forecast: Forecast) -> list[dict]:
        return ExpiringOut(
            [{"on": e.on, "amount": e.amount, "unit": forecast.unit} for e in forecast.expiring],
            many=True,
        ).data


class ForecastView(ApiView):
    scopes = {"GET": SCOPE_CREDITS_READ}

    @extend_schema(
        operation_id="accounts_forecast", responses={200: ForecastOut(many=True), **errors(404)}
    )
    def get(self, request, account_id):  # type: ignore[no-untyped-def]
        account = account_for(self.caller(), account_id, balance=True)
        return Response(ForecastOut(account_forecasts(account_id=account.pk), many=True).data)
