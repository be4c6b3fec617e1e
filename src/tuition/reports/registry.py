"""The column registry: for each report type, the columns a user may pick, in a stable order.

A column knows its key (used in saved definitions, the API and the command line), its label
(the header), its kind (text, amount, date or int: how writers render it) and how to get its
value from one row. Rows are plain dicts from `.values()` queries, so a column also names the
fields it needs and a report reads only what its chosen columns use. Amount columns return an
exact Decimal (from minor units) so spreadsheets receive numbers, never text.
"""

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from operator import itemgetter
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from tuition.checkout.models import ItemKind, Order
from tuition.codes.models import RedemptionCode
from tuition.core.amounts import to_decimal
from tuition.core.errors import ValidationError
from tuition.ledger.models import Lot, Transfer

from . import selectors
from .filters import ReportFilters, parse_filters

TEXT, AMOUNT, DATE, INT = "text", "amount", "date", "int"
KINDS = (TEXT, AMOUNT, DATE, INT)
USD_DECIMALS = 2
MAX_COLUMNS = 60

Row = Mapping[str, Any]


@dataclass(frozen=True)
class Column:
    key: str
    label: str | Promise
    kind: str
    get: Callable[[Row], Any]
    fields: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, str]:
        return {"key": self.key, "label": str(self.label), "kind": self.kind}


@dataclass(frozen=True)
class ReportDefinition:
    key: str
    label: str | Promise
    description: str | Promise
    columns: tuple[Column, ...]
    default_columns: tuple[str, ...]
    source: Callable[[ReportFilters, Sequence[str]], Iterable[Row]]
    filters: tuple[str, ...]
    statuses: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    listed: bool = True  # offered in the builder and the API (owner statements are not)
    # A cheap row count, where one exists, to decide whether an XLSX is built in the background.
    counter: Callable[[ReportFilters], int] | None = None
    _by_key: dict[str, Column] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_key.update({c.key: c for c in self.columns})
        assert len(self._by_key) == len(self.columns), f"duplicate column in {self.key}"
        assert all(k in self._by_key for k in self.default_columns)

    def column(self, key: str) -> Column:
        return self._by_key[key]

    def pick_columns(self, keys: Sequence[Any] | None) -> list[Column]:
        """The chosen columns in the chosen order (the defaults when none are given).

        Raises:
            ValidationError: an unknown or repeated column, or too many.
        """
        if keys is None or len(keys) == 0:
            keys = self.default_columns
        if isinstance(keys, str) or not isinstance(keys, Sequence):
            raise ValidationError(
                gettext("Columns must be a list of column keys."), details={"field": "columns"}
            )
        if len(keys) > MAX_COLUMNS:
            raise ValidationError(gettext("Too many columns."), details={"field": "columns"})
        unknown = [str(k)[:60] for k in keys if not isinstance(k, str) or k not in self._by_key]
        if unknown:
            raise ValidationError(
                gettext("Unknown column for the %(report)s report: %(columns)s.")
                % {"report": self.label, "columns": ", ".join(unknown)},
                details={
                    "field": "columns",
                    "unknown": unknown,
                    "choices": [c.key for c in self.columns],
                },
            )
        if len(set(keys)) != len(keys):
            raise ValidationError(
                gettext("A column is listed twice."), details={"field": "columns"}
            )
        return [self._by_key[k] for k in keys]

    def parse_filters(self, raw: Mapping[str, Any] | None) -> ReportFilters:
        """Raises: ValidationError: see filters.parse_filters."""
        return parse_filters(raw, allowed=self.filters, statuses=self.statuses, kinds=self.kinds)

    def rows(self, filters: ReportFilters, columns: Sequence[Column]) -> Iterator[Row]:
        needed = sorted({f for c in columns for f in c.fields})
        return iter(self.source(filters, needed))

    def as_dict(self) -> dict[str, Any]:
        return {
            "type": self.key,
            "label": str(self.label),
            "description": str(self.description),
            "columns": [c.as_dict() for c in self.columns],
            "default_columns": list(self.default_columns),
            "filters": list(self.filters),
            "statuses": list(self.statuses),
            "kinds": list(self.kinds),
        }


# --- column helpers -------------------------------------------------------------------------


def text(key: str, label: str | Promise, source: str | None = None) -> Column:
    name = source or key
    return Column(key, label, TEXT, itemgetter(name), (name,))


def integer(key: str, label: str | Promise, source: str | None = None) -> Column:
    """An int column: its getter must return an int or None."""
    name = source or key
    return Column(key, label, INT, itemgetter(name), (name,))


def moment(key: str, label: str | Promise, source: str | None = None) -> Column:
    name = source or key
    return Column(key, label, DATE, itemgetter(name), (name,))


def amount(
    key: str,
    label: str | Promise,
    source: str | None = None,
    *,
    decimals_field: str | None = None,
    decimals: int | None = None,
) -> Column:
    """A numeric column from minor units, in the row's unit (`decimals_field`) or a fixed one."""
    name = source or key
    if decimals is not None:
        fixed = decimals

        def get(r: Row) -> Decimal | None:
            value = r[name]
            return None if value is None else to_decimal(value, decimals=fixed)

        return Column(key, label, AMOUNT, get, (name,))
    assert decimals_field is not None
    dfield = decimals_field

    def get_in_unit(r: Row) -> Decimal | None:
        value = r[name]
        return None if value is None else to_decimal(value, decimals=r[dfield] or 0)

    return Column(key, label, AMOUNT, get_in_unit, (name, dfield))


def derived(
    key: str, label: str | Promise, kind: str, fields: tuple[str, ...], get: Callable[[Row], Any]
) -> Column:
    return Column(key, label, kind, get, fields)


def _choice_label(choices: Any, name: str) -> Callable[[Row], str]:
    labels = dict(choices)
    return lambda r: labels.get(r[name], r[name] or "")


def _automatic_refill(key: str | None) -> str:
    """What bought a refill automatically: "threshold, crossing 3" or "allowance 2026-12"."""
    if not key:
        return ""
    trigger, _, period = key.partition(":")
    return f"threshold, crossing {period}" if trigger == "threshold" else f"allowance {period}"


# --- the reports ----------------------------------------------------------------------------

CODES = ReportDefinition(
    key="codes",
    label=_("Coupons and Training Credits"),
    description=_(
        "Every code created: credits' own codes, account pool and member codes, coupons."
    ),
    source=selectors.code_rows,
    counter=lambda f: selectors.codes_queryset(f).count(),
    filters=("from", "to", "account", "unit", "status", "item"),
    statuses=selectors.CODE_STATUSES,
    columns=(
        integer("id", _("Code ID")),
        moment("created_at", _("Created")),
        derived("code", _("Code"), TEXT, ("sealed",), selectors.reveal),
        text("code_hint", _("Code ends with"), "hint"),
        derived(
            "type", _("Type"), TEXT, ("kind",), _choice_label(RedemptionCode.Kind.choices, "kind")
        ),
        text("status", _("Status"), "r_status"),
        text("label", _("Label")),
        integer("account_id", _("Account ID"), "r_account_id"),
        text("account", _("Account"), "r_account_name"),
        text("account_external_id", _("Account external ID"), "r_account_external_id"),
        text("member_email", _("Member"), "member__email"),
        text("unit", _("Unit"), "r_unit_code"),
        amount(
            "redeemable_value",
            _("Redeemable value"),
            "lot__redeemable_value",
            decimals_field="r_decimals",
        ),
        amount("remaining", _("Remaining"), "lot__remaining", decimals_field="r_decimals"),
        amount(
            "purchase_price",
            _("Purchase price (USD)"),
            "lot__purchase_price",
            decimals=USD_DECIMALS,
        ),
        moment("expires_at", _("Expires / valid until"), "r_expires_at"),
        moment("valid_from", _("Valid from"), "coupon__valid_from"),
        derived("scope", _("Scope"), TEXT, ("r_scope_kind", "r_scope_all"), selectors.scope_text),
        derived(
            "source",
            _("Source"),
            TEXT,
            ("lot__source",),
            _choice_label(Lot.Source.choices, "lot__source"),
        ),
        text("external_id", _("External ID"), "lot__external_id"),
        amount("cap", _("Member cap"), "cap", decimals_field="r_decimals"),
        amount("spent", _("Member spent"), "spent", decimals_field="r_decimals"),
        text("coupon", _("Coupon"), "coupon__name"),
        derived(
            "coupon_discount",
            _("Coupon discount"),
            TEXT,
            ("coupon__percent_off_bp", "coupon__amount_off"),
            selectors.coupon_discount,
        ),
        integer("coupon_uses", _("Coupon uses"), "coupon__uses"),
        integer("coupon_max_uses", _("Coupon max uses"), "coupon__max_uses"),
        text("notes", _("Notes"), "r_notes"),
        text("created_by", _("Created by")),
        moment("deleted_at", _("Deleted")),
    ),
    default_columns=(
        "created_at",
        "code",
        "type",
        "status",
        "account",
        "unit",
        "redeemable_value",
        "remaining",
        "expires_at",
        "coupon",
    ),
)

PURCHASES = ReportDefinition(
    key="purchases",
    label=_("Purchases"),
    description=_("Every order: code redemptions, coupons, card and invoice purchases, refills."),
    source=selectors.purchase_rows,
    counter=lambda f: selectors.orders_queryset(f).count(),
    filters=("from", "to", "account", "unit", "status", "item"),
    statuses=tuple(Order.Status.values),
    columns=(
        text("number", _("Order")),
        moment("date", _("Date"), "created_at"),
        moment("paid_at", _("Paid")),
        derived(
            "status", _("Status"), TEXT, ("status",), _choice_label(Order.Status.choices, "status")
        ),
        text("learner_email", _("Learner email"), "learner__email"),
        text("learner_name", _("Learner"), "learner__name"),
        integer("account_id", _("Account ID")),
        text("account", _("Account"), "account__name"),
        derived(
            "item_kind",
            _("Item type"),
            TEXT,
            ("item_kind",),
            _choice_label(ItemKind.choices, "item_kind"),
        ),
        derived(
            "item_id",
            _("Item ID"),
            INT,
            ("activity_id", "group_id"),
            lambda r: r["activity_id"] or r["group_id"],
        ),
        text("title", _("Item")),
        moment("session", _("Session start"), "session__starts_at"),
        derived(
            "method",
            _("Payment method"),
            TEXT,
            ("method",),
            _choice_label(Order.Method.choices, "method"),
        ),
        derived(
            "code",
            _("Code"),
            TEXT,
            ("code_hint",),
            lambda r: f"…{r['code_hint']}" if r["code_hint"] else "",
        ),
        text("coupon", _("Coupon"), "coupon__name"),
        amount("list_price", _("List price (USD)"), "list_price", decimals=USD_DECIMALS),
        text("unit", _("Unit"), "unit__code"),
        amount("price", _("Price"), "price", decimals_field="unit__decimals"),
        amount("discount", _("Discount"), "discount", decimals_field="unit__decimals"),
        amount("amount", _("Charged"), "charged", decimals_field="unit__decimals"),
        derived(
            "refunded",
            _("Refunded"),
            TEXT,
            ("refund_transfer_id",),
            lambda r: gettext("yes") if r["refund_transfer_id"] else gettext("no"),
        ),
        amount(
            "refunded_amount",
            _("Refunded amount"),
            "refunded_amount",
            decimals_field="unit__decimals",
        ),
        moment("cancelled_at", _("Cancelled")),
        text("receipt", _("Receipt"), "receipt__number"),
        text("invoice", _("Invoice"), "invoice__number"),
        text("provider", _("Payment provider")),
        text("payment_reference", _("Payment reference")),
        derived(
            "automatic_refill",
            _("Automatic refill"),
            TEXT,
            ("automatic_refill__key",),
            lambda r: _automatic_refill(r["automatic_refill__key"]),
        ),
    ),
    default_columns=(
        "number",
        "date",
        "status",
        "learner_email",
        "account",
        "title",
        "method",
        "code",
        "list_price",
        "unit",
        "amount",
    ),
)

USAGE = ReportDefinition(
    key="usage",
    label=_("Usage by team member"),
    description=_("What each person spent from each account, per unit (code redemptions)."),
    source=selectors.usage_rows,
    filters=("from", "to", "account", "unit", "item"),
    columns=(
        integer("account_id", _("Account ID")),
        text("account", _("Account"), "account__name"),
        text("member_email", _("Member email"), "learner__email"),
        text("member_name", _("Member"), "learner__name"),
        derived("role", _("Role"), TEXT, ("role",), lambda r: r["role"] or gettext("not a member")),
        text("unit", _("Unit"), "unit__code"),
        integer("orders", _("Orders")),
        amount("spent", _("Spent"), decimals_field="unit__decimals"),
        amount("refunded", _("Refunded"), decimals_field="unit__decimals"),
        amount("net", _("Net spent"), decimals_field="unit__decimals"),
        moment("first_at", _("First purchase")),
        moment("last_at", _("Last purchase")),
    ),
    default_columns=(
        "account",
        "member_email",
        "member_name",
        "unit",
        "orders",
        "spent",
        "refunded",
        "net",
    ),
)

LEDGER = ReportDefinition(
    key="ledger",
    label=_("Ledger"),
    description=_("Every entry of every transfer, in the order they were booked."),
    source=selectors.ledger_rows,
    counter=lambda f: selectors.entries_queryset(f).count(),
    filters=("from", "to", "account", "unit", "kind"),
    kinds=tuple(Transfer.Kind.values),
    columns=(
        integer("entry_id", _("Entry ID"), "id"),
        integer("transfer_id", _("Transfer ID")),
        moment("date", _("Date"), "transfer__created_at"),
        text("kind", _("Kind"), "transfer__kind"),
        integer("account_id", _("Account ID"), "transfer__account_id"),
        text("account", _("Account"), "transfer__account__name"),
        text("unit", _("Unit"), "transfer__unit__code"),
        integer("lot_id", _("Credit ID"), "lot_id"),
        text("system_account", _("System account")),
        amount("amount", _("Amount"), "amount", decimals_field="transfer__unit__decimals"),
        text("actor", _("Actor"), "transfer__actor"),
        text("reason", _("Reason"), "transfer__reason"),
        integer("reverses", _("Reverses transfer"), "transfer__reverses_id"),
        text("order", _("Order"), "transfer__order__number"),
    ),
    default_columns=(
        "date",
        "transfer_id",
        "kind",
        "account",
        "unit",
        "lot_id",
        "system_account",
        "amount",
        "actor",
    ),
)

LIABILITY = ReportDefinition(
    key="liability",
    label=_("Balances and liability"),
    description=_("Outstanding value per account and unit at a date, and when it expires."),
    source=selectors.liability_rows,
    filters=("at", "account", "unit"),
    columns=(
        moment("as_of", _("As of")),
        integer("account_id", _("Account ID")),
        text("account", _("Account"), "account_name"),
        text("unit", _("Unit"), "unit_code"),
        amount("outstanding", _("Outstanding"), decimals_field="decimals"),
        amount("inactive", _("Held by inactive credits"), decimals_field="decimals"),
        amount("held", _("Held for approval"), decimals_field="decimals"),
        integer("lots", _("Credits with value")),
        amount("expiring_30", _("Expires within 30 days"), decimals_field="decimals"),
        amount("expiring_90", _("Expires in 31-90 days"), decimals_field="decimals"),
        amount("expiring_365", _("Expires in 91-365 days"), decimals_field="decimals"),
        amount("expiring_later", _("Expires after 365 days"), decimals_field="decimals"),
        amount("never_expires", _("Never expires"), decimals_field="decimals"),
        moment("next_expiry", _("Next expiry")),
        amount("expired_unswept", _("Expired, not yet written off"), decimals_field="decimals"),
    ),
    default_columns=(
        "account",
        "unit",
        "outstanding",
        "expiring_30",
        "expiring_90",
        "expiring_365",
        "expiring_later",
        "never_expires",
        "next_expiry",
    ),
)

STATEMENT = ReportDefinition(
    key="statement",
    label=_("Account statement"),
    description=_("An account's transactions with the running balance per unit."),
    source=selectors.statement_rows,
    filters=("from", "to", "account", "unit"),
    listed=False,
    columns=(
        moment("date", _("Date"), "created_at"),
        integer("transaction", _("Transaction"), "id"),
        text("kind", _("Kind")),
        text("unit", _("Unit"), "unit__code"),
        text("description", _("Description")),
        text("order", _("Order"), "order_number"),
        text("learner_email", _("Learner"), "learner_email"),
        amount("amount", _("Amount"), "change", decimals_field="unit__decimals"),
        amount("balance", _("Balance"), "balance", decimals_field="unit__decimals"),
    ),
    default_columns=(
        "date",
        "transaction",
        "kind",
        "unit",
        "description",
        "order",
        "learner_email",
        "amount",
        "balance",
    ),
)

REPORTS: dict[str, ReportDefinition] = {
    r.key: r for r in (CODES, PURCHASES, USAGE, LEDGER, LIABILITY, STATEMENT)
}


def listed_reports() -> list[ReportDefinition]:
    return [r for r in REPORTS.values() if r.listed]


def get_report(key: Any, *, listed_only: bool = True) -> ReportDefinition:
    """Raises: ValidationError: no such report type."""
    report = REPORTS.get(key) if isinstance(key, str) else None
    if report is None or (listed_only and not report.listed):
        raise ValidationError(
            gettext("Unknown report type."),
            details={"field": "type", "choices": [r.key for r in listed_reports()]},
        )
    return report
