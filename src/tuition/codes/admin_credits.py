"""Credits in the staff admin (SPEC §5): the lots of the ledger, with their codes.

Lists, filters and search read; every write is a service call: creating (codes.create_credit),
editing one credit (codes.update_credit), bulk activate / deactivate / delete
(codes.bulk_credit_action, delete voids the remaining value) and adjustments with a reason
(ledger.adjust_lot). The ledger rows themselves are never written here.
"""

import dataclasses
from contextvars import ContextVar
from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import ActionLocation
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportMixin

from tuition.accounts.admin_roles import can_see_codes, mask_code
from tuition.accounts.models import TrainingAccount
from tuition.catalog.models import Activity, Group
from tuition.core import clock
from tuition.core.actors import Actor
from tuition.core.actors import history_changed_by as changed_by
from tuition.core.actors import history_reason as change_reason
from tuition.core.admin_actors import ActorFieldsMixin
from tuition.core.admin_support import (
    CommerceAreaMixin,
    HistoryAdmin,
    ServiceForm,
    ServiceModelAdmin,
    actor_of,
)
from tuition.core.amounts import format_amount, parse_amount
from tuition.core.display import money, usd, when
from tuition.core.errors import DomainError
from tuition.core.errors import ValidationError as DomainValidationError
from tuition.ledger import services as ledger
from tuition.ledger.models import Lot, Unit

from . import selectors
from . import services as codes
from .admin_import import CreditResource
from .models import RedemptionCode

SOON_DAYS = 30
# The request being served on this thread: what a column shows (a code in the clear or masked)
# depends on who is looking, and a ModelAdmin instance is shared by every request.
_request: ContextVar[HttpRequest | None] = ContextVar("credit_admin_request", default=None)
_ERROR_FIELDS = {"scope.items": "scope_all", "scope.kind": "scope_kind", "account": "account"}


def _field_label(name: str) -> str:
    """A credit's field as staff read it ("Expires at"), never its Python name."""
    try:
        return str(getattr(Lot._meta.get_field(name), "verbose_name", name)).capitalize()
    except Exception:
        return name.replace("_", " ").capitalize()


def code_of(lot: Lot) -> RedemptionCode | None:
    try:
        return lot.code  # type: ignore[attr-defined,no-any-return]
    except RedemptionCode.DoesNotExist:
        return None


def shown_code(request: HttpRequest, code: RedemptionCode | None) -> str:
    """The code in the clear for roles that may see codes, masked for the others."""
    if code is None:
        return "—"
    text = selectors.reveal_code(code)
    if can_see_codes(getattr(request, "user", None)):
        return text or f"…{code.hint}"
    return mask_code(text, code.hint)


def _parse(value: str, unit: Unit | None, field: str, **kwargs: Any) -> int:
    return parse_amount(value.strip(), decimals=unit.decimals if unit else 2, field=field, **kwargs)


class _ScopeFields(forms.Form):
    scope_activities = forms.ModelMultipleChoiceField(
        queryset=Activity.objects.all(),
        required=False,
        label=_("Activities"),
        widget=FilteredSelectMultiple(_("activities"), is_stacked=False),
        help_text=_("The activities it pays for (when not all of them)."),
    )
    scope_groups = forms.ModelMultipleChoiceField(
        queryset=Group.objects.all(),
        required=False,
        label=_("Groups"),
        widget=FilteredSelectMultiple(_("groups"), is_stacked=False),
        help_text=_("The groups it pays for (when not all of them)."),
    )


def _chosen_items(data: dict[str, Any], kind: str) -> list[int]:
    chosen = data.get("scope_activities" if kind == Lot.ScopeKind.ACTIVITY else "scope_groups")
    return sorted(item.pk for item in chosen or [])


class CreditAddForm(ServiceForm, _ScopeFields):
    """Every field of SPEC §2; the code is generated when left blank."""

    owner_email = forms.EmailField(
        required=False,
        label=_("Owner (a person)"),
        help_text=_("Instead of a training account: the credit goes to this person's own account."),
    )
    redeemable_value = forms.CharField(
        label=_("Redeemable value"),
        help_text=_("What learners can redeem, in the unit: 150.00 for USD, 3 for tokens."),
    )
    purchase_price = forms.CharField(
        required=False,
        label=_("Purchase price (USD)"),
        help_text=_("What the buyer paid; the difference from the value is their discount."),
    )
    code = forms.CharField(
        required=False,
        max_length=64,
        label=_("Redemption code"),
        help_text=_("Leave blank to generate one."),
    )
    error_fields = _ERROR_FIELDS

    class Meta:
        model = Lot
        fields = [
            "account",
            "unit",
            "external_id",
            "expires_at",
            "status",
            "notes",
            "scope_kind",
            "scope_all",
        ]
        widgets = {"scope_kind": forms.RadioSelect, "status": forms.RadioSelect}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "account" in self.fields:
            self.fields["account"].required = False
            self.fields["account"].label = _("Owner (a training account)")
            self.fields["account"].queryset = TrainingAccount.objects.order_by("name")
        if "unit" in self.fields:
            self.fields["unit"].queryset = Unit.objects.filter(is_active=True)
            self.fields["unit"].label = _("Counted in")
            self.fields["unit"].help_text = _("USD (training credits) or a token type.")
        if "expires_at" in self.fields:
            self.fields["expires_at"].label = _("Expires")
            self.fields["expires_at"].help_text = _("Leave blank for a credit that never expires.")
        if "scope_kind" in self.fields:
            self.fields["scope_kind"].label = _("Activity or group")
            self.fields["scope_kind"].help_text = _(
                "What the credit pays for. This cannot change after it is created; which "
                "activities or groups can."
            )
        if "scope_all" in self.fields:
            self.fields["scope_all"].label = _("All of them")
        if "external_id" in self.fields:
            self.fields["external_id"].label = _("External ID")
            self.fields["external_id"].help_text = _(
                "Optional: the ID in another system, e.g. the payment processor's."
            )
        if "notes" in self.fields:
            self.fields["notes"].widget.attrs["rows"] = 3

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        unit = data.get("unit")
        try:
            if data.get("redeemable_value"):
                data["redeemable_value"] = _parse(
                    data["redeemable_value"], unit, "redeemable_value"
                )
            if data.get("purchase_price"):
                data["purchase_price"] = _parse(
                    data["purchase_price"], None, "purchase_price", allow_zero=True
                )
            else:
                data["purchase_price"] = None
        except DomainValidationError as exc:
            self.add_error(exc.details.get("field"), exc.message)
        if bool(data.get("account")) == bool(data.get("owner_email")):
            self.add_error("account", _("Choose an account or give an owner email (not both)."))
        return data

    def apply(self, *, actor: Actor) -> Lot:
        data = self.cleaned_data
        kind = data["scope_kind"]
        issued = codes.create_credit(
            unit=data["unit"],
            redeemable_value=data["redeemable_value"],
            actor=actor,
            account_id=data["account"].pk if data.get("account") else None,
            owner_email=data.get("owner_email") or None,
            purchase_price=data["purchase_price"],
            expires_at=data.get("expires_at"),
            status=data["status"],
            notes=data.get("notes") or "",
            external_id=data.get("external_id") or "",
            scope=codes.ScopeInput(
                kind=kind, all=data.get("scope_all", False), items=_chosen_items(data, kind)
            ),
            code=data.get("code") or None,
        )
        self.code_text = issued.code_text
        return issued.lot


class CreditChangeForm(ServiceForm, _ScopeFields):
    """One credit at a time; its scope kind, unit, value and account are fixed."""

    purchase_price = forms.CharField(
        required=False, label=_("Purchase price (USD)"), help_text=_("What the buyer paid.")
    )
    error_fields = _ERROR_FIELDS

    class Meta:
        model = Lot
        fields = ["status", "expires_at", "external_id", "notes", "scope_all"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        labels = {
            "expires_at": _("Expires"),
            "external_id": _("External ID"),
            "scope_all": _("All of them"),
        }
        for name, label in labels.items():
            if name in self.fields:
                self.fields[name].label = label
        if "notes" in self.fields:
            self.fields["notes"].widget.attrs["rows"] = 3
        lot = self.instance
        name = "scope_activities" if lot.scope_kind == Lot.ScopeKind.ACTIVITY else "scope_groups"
        self.initial[name] = lot.scope_item_ids()
        if lot.purchase_price is not None:
            self.initial["purchase_price"] = format_amount(lot.purchase_price, decimals=2)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        try:
            data["purchase_price"] = (
                _parse(data["purchase_price"], None, "purchase_price", allow_zero=True)
                if data.get("purchase_price")
                else None
            )
        except DomainValidationError as exc:
            self.add_error("purchase_price", exc.message)
        return data

    def apply(self, *, actor: Actor) -> Lot:
        data, lot, changed = self.cleaned_data, self.instance, set(self.changed_data)
        changes: dict[str, Any] = {}
        for name in ("status", "expires_at", "external_id", "notes", "purchase_price"):
            if name in changed:
                changes[name] = data[name] if name != "notes" else data[name] or ""
        if changed & {"scope_all", "scope_activities", "scope_groups"}:
            changes["scope"] = codes.ScopeInput(
                kind=lot.scope_kind,
                all=data["scope_all"],
                items=_chosen_items(data, lot.scope_kind),
            )
        if not changes:
            return lot
        return codes.update_credit(lot_id=lot.pk, actor=actor, **changes)


class AdjustForm(forms.Form):
    amount = forms.CharField(
        label=_("Amount"),
        help_text=_("Added to the remaining value; a minus sign takes value away (e.g. -25.00)."),
    )
    reason = forms.CharField(
        max_length=500, label=_("Reason"), help_text=_("Goodwill, correction, ...")
    )


class StatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "state"

    def lookups(self, request, model_admin):  # type: ignore[no-untyped-def]
        return [("active", _("Active")), ("inactive", _("Inactive")), ("expired", _("Expired"))]

    def queryset(self, request, queryset):  # type: ignore[no-untyped-def]
        now = clock.now()
        live = Q(expires_at__isnull=True) | Q(expires_at__gt=now)
        if self.value() == "active":
            return queryset.filter(live, status=Lot.Status.ACTIVE)
        if self.value() == "inactive":
            return queryset.filter(status=Lot.Status.INACTIVE)
        if self.value() == "expired":
            return queryset.filter(expires_at__lte=now)
        return queryset


class ExpiryFilter(admin.SimpleListFilter):
    title = _("expiry")
    parameter_name = "expiry"

    def lookups(self, request, model_admin):  # type: ignore[no-untyped-def]
        return [
            ("expired", _("Expired")),
            ("soon", gettext("Within %(days)s days") % {"days": SOON_DAYS}),
            ("later", _("Later")),
            ("never", _("Never")),
        ]

    def queryset(self, request, queryset):  # type: ignore[no-untyped-def]
        now = clock.now()
        soon = now + timedelta(days=SOON_DAYS)
        match self.value():
            case "expired":
                return queryset.filter(expires_at__lte=now)
            case "soon":
                return queryset.filter(expires_at__gt=now, expires_at__lte=soon)
            case "later":
                return queryset.filter(expires_at__gt=soon)
            case "never":
                return queryset.filter(expires_at__isnull=True)
        return queryset


@admin.register(Lot)
class CreditAdmin(
    ActorFieldsMixin, CommerceAreaMixin, ImportExportMixin, ServiceModelAdmin, HistoryAdmin
):
    resource_classes = [CreditResource]
    list_display = [
        "code_column",
        "value_column",
        "scope_column",
        "owner_column",
        "remaining_column",
        "expires_column",
        "status_column",
    ]
    list_display_links = ["code_column"]
    list_filter = [
        StatusFilter,
        "unit",
        ("account", admin.RelatedOnlyFieldListFilter),
        ExpiryFilter,
    ]
    search_fields = ["external_id", "account__name", "account__memberships__user__email"]
    search_help_text = _("A code, an external ID, an account name or an owner's email.")
    list_select_related = ["account", "unit", "code"]
    actions = ["deactivate_credits", "activate_credits", "delete_selected"]
    list_per_page = 50

    # --- import and export (admin_import) --------------------------------------------------

    def has_import_permission(self, request):  # type: ignore[no-untyped-def]
        return self.has_add_permission(request)

    def has_export_permission(self, request):  # type: ignore[no-untyped-def]
        return self.has_view_permission(request)

    def get_import_resource_kwargs(self, request, **kwargs):  # type: ignore[no-untyped-def]
        return {**super().get_import_resource_kwargs(request, **kwargs), "request": request}

    def get_export_resource_kwargs(self, request, **kwargs):  # type: ignore[no-untyped-def]
        return {**super().get_export_resource_kwargs(request, **kwargs), "request": request}

    # --- list -----------------------------------------------------------------------------

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        _request.set(request)
        return (
            super()
            .get_queryset(request)
            .filter(deleted_at__isnull=True)
            .annotate(scope_count=Count("scope_items", distinct=True))
        )

    def get_search_results(self, request, queryset, search_term):  # type: ignore[no-untyped-def]
        term = (search_term or "").strip()
        if term:
            try:
                code = selectors.find_code(term)
            except DomainError:
                code = None
            if code is not None and code.lot_id is not None:
                return queryset.filter(pk=code.lot_id), False
        return super().get_search_results(request, queryset, search_term)

    def changelist_view(self, request, extra_context=None):  # type: ignore[no-untyped-def]
        return super().changelist_view(
            request, {"title": _("Training credits"), **(extra_context or {})}
        )

    @admin.display(description=_("redemption code"))
    def code_column(self, obj: Lot) -> str:
        return format_html('<span class="code">{}</span>', shown_code(_request.get(), code_of(obj)))

    @admin.display(description=_("redeemable value"), ordering="redeemable_value")
    def value_column(self, obj: Lot) -> str:
        return money(obj.redeemable_value, obj.unit)

    @admin.display(description=_("remaining"), ordering="remaining")
    def remaining_column(self, obj: Lot) -> str:
        return money(obj.remaining, obj.unit)

    @admin.display(description=_("expires"), ordering="expires_at")
    def expires_column(self, obj: Lot) -> str:
        return when(obj.expires_at, empty=gettext("Never"))

    @admin.display(description=_("activity or group"))
    def scope_column(self, obj: Lot) -> str:
        activities = obj.scope_kind == Lot.ScopeKind.ACTIVITY
        if obj.scope_all:
            return gettext("All activities") if activities else gettext("All groups")
        count = getattr(obj, "scope_count", None)
        if count is None:
            count = obj.scope_items.count()
        if activities:
            chosen = ngettext("%(count)s chosen activity", "%(count)s chosen activities", count)
        else:
            chosen = ngettext("%(count)s chosen group", "%(count)s chosen groups", count)
        return chosen % {"count": count}

    @admin.display(description=_("owner"), ordering="account__name")
    def owner_column(self, obj: Lot) -> str:
        return obj.account.name

    @admin.display(description=_("status"), ordering="status")
    def status_column(self, obj: Lot) -> str:
        if obj.is_expired_at(clock.now()):
            return format_html('<span class="tag warn">{}</span>', gettext("Expired"))
        css = "ok" if obj.status == Lot.Status.ACTIVE else ""
        return format_html('<span class="tag {}">{}</span>', css, obj.get_status_display())

    # --- forms ----------------------------------------------------------------------------

    def get_form(self, request, obj=None, change=False, **kwargs):  # type: ignore[no-untyped-def]
        kwargs["form"] = CreditChangeForm if obj is not None else CreditAddForm
        _request.set(request)
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):  # type: ignore[no-untyped-def]
        if obj is None:
            # The order of the Intellum page: Activity or Group first ... Notes last.
            return [
                (
                    None,
                    {
                        "fields": [
                            "scope_kind",
                            "scope_all",
                            "scope_activities",
                            "scope_groups",
                            "unit",
                            "redeemable_value",
                            "remaining_note",
                            "purchase_price",
                            "external_id",
                            "account",
                            "owner_email",
                            "expires_at",
                            "code",
                            "status",
                            "notes",
                        ]
                    },
                ),
            ]
        scope_list = (
            "scope_activities" if obj.scope_kind == Lot.ScopeKind.ACTIVITY else "scope_groups"
        )
        return [
            (
                None,
                {
                    "fields": [
                        "scope_kind_display",
                        "scope_all",
                        scope_list,
                        "redeemable_value_display",
                        "remaining_display",
                        "purchase_price",
                        "external_id",
                        "owner_display",
                        "expires_at",
                        "code_display",
                        "status",
                        "notes",
                    ]
                },
            ),
            (
                _("Issued"),
                {"fields": ["source", "created", "created_by_display", "adjust_link"]},
            ),
        ]

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        if obj is None:
            return ["remaining_note"]
        fixed = [
            "code_display",
            "owner_display",
            "unit",
            "redeemable_value_display",
            "remaining_display",
            "scope_kind_display",
            "source",
            "created",
            "created_by_display",
            "adjust_link",
        ]
        if not self.has_change_permission(request, obj):
            return [
                *fixed,
                "purchase_price",
                "external_id",
                "expires_at",
                "status",
                "notes",
                "scope_all",
                "scope_activities",
                "scope_groups",
            ]
        return fixed

    @admin.display(description=_("activity or group"))
    def scope_kind_display(self, obj: Lot) -> str:
        if obj.scope_kind == Lot.ScopeKind.ACTIVITY:
            return gettext("Activities (cannot change)")
        return gettext("Groups (cannot change)")

    @admin.display(description=_("owner"))
    def owner_display(self, obj: Lot) -> str:
        url = reverse("admin:accounts_trainingaccount_change", args=[obj.account_id])
        return format_html('<a href="{}">{}</a>', url, obj.account.name)

    @admin.display(description=_("redemption code"))
    def code_display(self, obj: Lot) -> str:
        return shown_code(_request.get(), code_of(obj))

    @admin.display(description=_("redeemable value"))
    def redeemable_value_display(self, obj: Lot) -> str:
        return self.value_column(obj)

    @admin.display(description=_("remaining"))
    def remaining_display(self, obj: Lot) -> str:
        return self.remaining_column(obj)

    @admin.display(description=_("purchase price (USD)"))
    def purchase_price(self, obj: Lot) -> str:
        return usd(obj.purchase_price) if obj.purchase_price is not None else "—"

    @admin.display(description=_("remaining amount"))
    def remaining_note(self, obj: Lot | None = None) -> str:
        return gettext("Worked out by Tuition: the redeemable value, less what has been redeemed.")

    @admin.display(description=_("created"), ordering="created_at")
    def created(self, obj: Lot) -> str:
        return when(obj.created_at)

    @admin.display(description=_("chosen activities"))
    def scope_activities(self, obj: Lot) -> str:
        items = Activity.objects.filter(pk__in=obj.scope_item_ids())
        return ", ".join(str(a) for a in items) or "—"

    @admin.display(description=_("chosen groups"))
    def scope_groups(self, obj: Lot) -> str:
        items = Group.objects.filter(pk__in=obj.scope_item_ids())
        return ", ".join(str(g) for g in items) or "—"

    @admin.display(description=_("adjust"))
    def adjust_link(self, obj: Lot) -> str:
        if not self.has_change_permission(_request.get(), obj):
            return "—"
        url = reverse("admin:ledger_lot_adjust", args=[obj.pk])
        return format_html(
            '<a class="button small" href="{}">{}</a>', url, gettext("Adjust the remaining value…")
        )

    def change_history_rows(self, obj: Lot) -> list[dict[str, str]]:
        """Newest first: when, who, why and what changed (old → new) for one credit."""
        records = list(
            obj.history.select_related("history_user").order_by("-history_date", "-history_id")[:50]
        )
        rows = []
        for newer, older in zip(records, [*records[1:], None], strict=True):
            if older is None:
                what = gettext("created")
            else:
                delta = newer.diff_against(older)
                what = (
                    "; ".join(f"{_field_label(c.field)}: {c.old} → {c.new}" for c in delta.changes)
                    or "—"
                )
            rows.append(
                {
                    "when": when(newer.history_date),
                    "who": changed_by(newer),
                    "reason": change_reason(newer),
                    "what": what,
                }
            )
        return rows

    def change_view(self, request, object_id, form_url="", extra_context=None):  # type: ignore[no-untyped-def]
        lot = self.get_object(request, object_id)
        rows = self.change_history_rows(lot) if lot is not None else []
        return super().change_view(
            request,
            object_id,
            form_url,
            {
                "change_history_rows": rows,
                "title": _("Training credit"),
                **(extra_context or {}),
            },
        )

    def add_view(self, request, form_url="", extra_context=None):  # type: ignore[no-untyped-def]
        return super().add_view(
            request, form_url, {"title": _("New training credit"), **(extra_context or {})}
        )

    def response_add(self, request, obj, post_url_continue=None):  # type: ignore[no-untyped-def]
        form = getattr(request, "_credit_form", None)
        text = getattr(form, "code_text", None)
        if text and can_see_codes(request.user):
            self.message_user(
                request,
                gettext("Training credit created. Its redemption code is %(code)s")
                % {"code": text},
                messages.SUCCESS,
            )
        return super().response_add(request, obj, post_url_continue)

    def save_form(self, request, form, change):  # type: ignore[no-untyped-def]
        request._credit_form = form
        return super().save_form(request, form, change)

    # --- actions --------------------------------------------------------------------------

    def _bulk(self, request: HttpRequest, queryset: Any, action: str, done: Any) -> None:
        try:
            count = codes.bulk_credit_action(
                action=action,
                lot_ids=list(queryset.values_list("pk", flat=True)),
                actor=actor_of(request),
            )
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        self.message_user(request, done(count) % {"count": count}, messages.SUCCESS)

    @admin.action(description=_("Deactivate selected credits"), permissions=["change"])
    def deactivate_credits(self, request, queryset):  # type: ignore[no-untyped-def]
        self._bulk(
            request,
            queryset,
            "deactivate",
            lambda n: ngettext(
                "%(count)s training credit deactivated.",
                "%(count)s training credits deactivated.",
                n,
            ),
        )

    @admin.action(description=_("Activate selected credits"), permissions=["change"])
    def activate_credits(self, request, queryset):  # type: ignore[no-untyped-def]
        self._bulk(
            request,
            queryset,
            "activate",
            lambda n: ngettext(
                "%(count)s training credit activated.", "%(count)s training credits activated.", n
            ),
        )

    def get_actions(self, request, action_location=ActionLocation.CHANGE_LIST):  # type: ignore[no-untyped-def]
        actions = super().get_actions(request, action_location=action_location)
        if "delete_selected" in actions:
            delete = actions["delete_selected"]
            actions["delete_selected"] = dataclasses.replace(
                delete,
                description=_("Delete selected credits (voids their remaining value)"),
                plural_description=_("Delete selected credits (voids their remaining value)"),
            )
        return actions

    def get_deleted_objects(self, objs, request):  # type: ignore[no-untyped-def]
        # Deleting a credit voids it; nothing cascades (its transfers and entries stay).
        lines = [
            gettext(
                "Training credit %(code)s of %(account)s: %(remaining)s remaining will be voided"
            )
            % {
                "code": shown_code(request, code_of(lot)),
                "account": lot.account.name,
                "remaining": money(lot.remaining, lot.unit),
            }
            for lot in objs
        ]
        perms_needed = set() if self.has_delete_permission(request) else {"credit"}
        return lines, {"credits": len(lines)}, perms_needed, []

    def delete_model(self, request, obj):  # type: ignore[no-untyped-def]
        codes.delete_credit(lot_id=obj.pk, actor=actor_of(request))

    def delete_queryset(self, request, queryset):  # type: ignore[no-untyped-def]
        codes.bulk_credit_action(
            action="delete",
            lot_ids=list(queryset.values_list("pk", flat=True)),
            actor=actor_of(request),
        )

    # --- adjustments ----------------------------------------------------------------------

    def get_urls(self):  # type: ignore[no-untyped-def]
        extra = [
            path(
                "<int:lot_id>/adjust/",
                self.admin_site.admin_view(self.adjust_view),
                name="ledger_lot_adjust",
            )
        ]
        return extra + super().get_urls()

    def adjust_view(self, request: HttpRequest, lot_id: int):  # type: ignore[no-untyped-def]
        lot = get_object_or_404(
            self.get_queryset(request).select_related("unit", "account"), pk=lot_id
        )
        if not self.has_change_permission(request, lot):
            raise PermissionDenied
        form = AdjustForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                delta = parse_amount(
                    form.cleaned_data["amount"].strip(),
                    decimals=lot.unit.decimals,
                    field="amount",
                    allow_negative=True,
                )
                ledger.adjust_lot(
                    lot_id=lot.pk,
                    delta=delta,
                    reason=form.cleaned_data["reason"],
                    actor=actor_of(request),
                )
            except DomainError as exc:
                form.add_error(
                    "amount" if exc.details.get("field") == "amount" else None, exc.message
                )
            else:
                self.message_user(request, _("The training credit was adjusted."), messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:ledger_lot_change", args=[lot.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Adjust a credit"),
            "opts": self.model._meta,
            "lot": lot,
            "form": form,
            "code": shown_code(request, code_of(lot)),
            "remaining": self.remaining_column(lot),
        }
        return TemplateResponse(request, "admin/ledger/lot/adjust.html", context)
