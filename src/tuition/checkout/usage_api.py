"""The API's usage of an account by team member (`/accounts/{id}/usage`): what each person
redeemed from the account's credits, read from the orders."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers

from tuition.accounts.access import account_for
from tuition.api.base import ApiView, MoneyOut, PageQuery, errors, money, page_of
from tuition.api.fields import AwareDateTimeField, StrictCharField
from tuition.api.models import SCOPE_CREDITS_READ

from .selectors import usage_by_member


class UsageOut(serializers.Serializer):
    email = serializers.EmailField(source="learner__email")
    name = serializers.CharField(source="learner__name")
    is_member = serializers.SerializerMethodField()
    unit = serializers.CharField(source="unit__code")
    redemptions = serializers.IntegerField()
    refunded = serializers.IntegerField()
    spent = serializers.SerializerMethodField()
    last_at = serializers.DateTimeField()

    def get_is_member(self, row: dict) -> bool:
        return row["learner_id"] in self.context["members"]

    @extend_schema_field(MoneyOut())
    def get_spent(self, row: dict) -> dict[str, str]:
        unit = type("U", (), {"code": row["unit__code"], "decimals": row["unit__decimals"]})
        return money(row["spent"] or 0, unit)


class UsageQuery(PageQuery):
    unit = StrictCharField(max_length=16, required=False, help_text="Only this unit's code.")
    from_ = AwareDateTimeField(required=False, help_text="From this instant (with offset).")
    to = AwareDateTimeField(required=False, help_text="Before this instant (with offset).")


class UsageView(ApiView):
    scopes = {"GET": SCOPE_CREDITS_READ}
    queries = {"GET": UsageQuery}

    @extend_schema(
        operation_id="accounts_usage",
        responses={200: page_of(UsageOut, "UsagePage"), **errors(404)},
    )
    def get(self, request, account_id):  # type: ignore[no-untyped-def]
        account = account_for(self.caller(), account_id)
        rows = usage_by_member(
            account_id=account.pk,
            unit_code=self.query.get("unit"),
            since=self.query.get("from"),
            until=self.query.get("to"),
        )
        members = set(account.memberships.values_list("user_id", flat=True))
        return self.paginated(rows, UsageOut, members=members)
