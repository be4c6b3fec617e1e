"""Import credits (with their codes) from CSV or XLSX, and export them, in the staff admin.

django-import-export gives the upload, the preview and the confirmation; each row is issued
by `codes.services.create_credit`, in its own savepoint, so a refused row leaves nothing
behind and shows the service's message in the preview. Exported cells are safe against
spreadsheet formula injection.

Columns: account (an account's external ID or exact name) or owner_email; unit (code);
redeemable_value and purchase_price (decimal strings); external_id; expires_at (ISO 8601,
empty = never); status (active/inactive, default active); notes; scope_kind
(activity/group, default activity); scope_items (ids separated by spaces or commas; empty =
all); code (empty = generated).
"""

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils.translation import gettext
from import_export import fields, resources

from tuition.accounts.admin_roles import can_see_codes, mask_code
from tuition.accounts.models import TrainingAccount
from tuition.core.actors import COMMAND, Actor
from tuition.core.admin_support import actor_of
from tuition.core.amounts import format_amount, parse_amount
from tuition.core.errors import DomainError
from tuition.ledger.models import Lot, Unit

from . import selectors
from . import services as codes
from .models import RedemptionCode

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _text(row: dict[str, Any], name: str) -> str:
    value = row.get(name)
    return "" if value is None else str(value).strip()


def _row_error(message: str, field: str | None = None) -> DjangoValidationError:
    return DjangoValidationError({field: message} if field else message)


class CreditResource(resources.ModelResource):
    code = fields.Field(column_name="code")
    account = fields.Field(column_name="account")
    owner_email = fields.Field(column_name="owner_email")
    unit = fields.Field(column_name="unit")
    redeemable_value = fields.Field(column_name="redeemable_value")
    remaining = fields.Field(column_name="remaining")
    purchase_price = fields.Field(column_name="purchase_price")
    scope_items = fields.Field(column_name="scope_items")

    class Meta:
        model = Lot
        fields = [
            "id",
            "code",
            "account",
            "owner_email",
            "unit",
            "redeemable_value",
            "remaining",
            "purchase_price",
            "external_id",
            "expires_at",
            "status",
            "notes",
            "scope_kind",
            "scope_items",
            "source",
            "created_at",
        ]
        export_order = fields
        import_id_fields: list[str] = []
        clean_model_instances = False
        skip_unchanged = False

    def __init__(self, request: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.request = request

    # --- export ---------------------------------------------------------------------------

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return Lot.objects.filter(deleted_at__isnull=True).select_related("account", "unit", "code")

    def export_field(self, field, instance, **kwargs):  # type: ignore[no-untyped-def]
        return spreadsheet_safe(super().export_field(field, instance, **kwargs))

    def dehydrate_code(self, lot: Lot) -> str:
        if lot.pk is None:
            return ""
        try:
            code: RedemptionCode = lot.code  # type: ignore[attr-defined]
        except RedemptionCode.DoesNotExist:
            return ""
        text = selectors.reveal_code(code)
        if can_see_codes(getattr(self.request, "user", None)):
            return text or ""
        return mask_code(text, code.hint)

    def dehydrate_account(self, lot: Lot) -> str:
        if not lot.account_id:
            return ""
        return lot.account.external_id or lot.account.name

    def dehydrate_owner_email(self, lot: Lot) -> str:
        return ""

    def dehydrate_unit(self, lot: Lot) -> str:
        return lot.unit.code if lot.unit_id else ""

    def dehydrate_redeemable_value(self, lot: Lot) -> str:
        return lot.unit.format(lot.redeemable_value) if lot.unit_id else ""

    def dehydrate_remaining(self, lot: Lot) -> str:
        return lot.unit.format(lot.remaining) if lot.unit_id and lot.remaining is not None else ""

    def dehydrate_purchase_price(self, lot: Lot) -> str:
        return "" if lot.purchase_price is None else format_amount(lot.purchase_price, decimals=2)

    def dehydrate_scope_items(self, lot: Lot) -> str:
        if lot.pk is None or lot.scope_all:
            return ""
        return " ".join(str(i) for i in sorted(lot.scope_item_ids()))

    # --- import ---------------------------------------------------------------------------

    def get_instance(self, instance_loader, row):  # type: ignore[no-untyped-def]
        return None  # every row is a new credit

    def import_instance(self, instance, row, **kwargs):  # type: ignore[no-untyped-def]
        """Values are read and checked by the service in save_instance."""

    def save_m2m(self, instance, row, **kwargs):  # type: ignore[no-untyped-def]
        """The scope list is saved by the service."""

    def save_instance(self, instance, is_create, row, **kwargs):  # type: ignore[no-untyped-def]
        args = self._credit_args(row)
        actor = kwargs.get("actor") or Actor.for_job("import_credits", via=COMMAND)
        if self.request is not None:
            actor = actor_of(self.request)
        try:
            # One row: all of it or none, inside the import's own transaction.
            with transaction.atomic():
                issued = codes.create_credit.joining(actor=actor, **args)
        except DomainError as exc:
            field = exc.details.get("field") if isinstance(exc.details, dict) else None
            raise _row_error(exc.message, str(field) if field else None) from exc
        lot = issued.lot
        instance.__dict__.update({k: v for k, v in lot.__dict__.items() if k != "_state"})
        instance._state.adding = False
        instance._state.db = lot._state.db

    def _credit_args(self, row: dict[str, Any]) -> dict[str, Any]:
        unit = Unit.objects.filter(code__iexact=_text(row, "unit") or "USD").first()
        if unit is None:
            raise _row_error(gettext("Unknown unit."), "unit")
        args: dict[str, Any] = {"unit": unit}
        account, owner = _text(row, "account"), _text(row, "owner_email")
        if bool(account) == bool(owner):
            raise _row_error(
                gettext("Give either an “account” or an “owner_email” column value."), "account"
            )
        if account:
            found = (
                TrainingAccount.objects.filter(external_id=account).first()
                or TrainingAccount.objects.filter(name=account).first()
            )
            if found is None:
                raise _row_error(
                    gettext("No account “%(account)s”.") % {"account": account}, "account"
                )
            args["account_id"] = found.pk
        else:
            args["owner_email"] = owner
        try:
            args["redeemable_value"] = parse_amount(
                _text(row, "redeemable_value"), decimals=unit.decimals, field="redeemable_value"
            )
            price = _text(row, "purchase_price")
            args["purchase_price"] = (
                parse_amount(price, decimals=2, field="purchase_price", allow_zero=True)
                if price
                else None
            )
        except DomainError as exc:
            raise _row_error(exc.message, exc.details.get("field")) from exc
        expires = _text(row, "expires_at")
        try:
            args["expires_at"] = datetime.fromisoformat(expires) if expires else None
        except ValueError as exc:
            raise _row_error(
                gettext("The “expires_at” column must be an ISO 8601 date and time."), "expires_at"
            ) from exc
        if args["expires_at"] is not None and args["expires_at"].tzinfo is None:
            raise _row_error(
                gettext("The “expires_at” column needs a time zone offset (e.g. +00:00)."),
                "expires_at",
            )
        items = [p for p in _text(row, "scope_items").replace(",", " ").split() if p]
        if not all(p.isdigit() for p in items):
            raise _row_error(gettext("The “scope_items” column must list ids."), "scope_items")
        args["scope"] = codes.ScopeInput(
            kind=_text(row, "scope_kind") or "activity",
            all=not items,
            items=[int(p) for p in items],
        )
        args.update(
            status=_text(row, "status") or "active",
            notes=_text(row, "notes"),
            external_id=_text(row, "external_id"),
            code=_text(row, "code") or None,
        )
        return args
