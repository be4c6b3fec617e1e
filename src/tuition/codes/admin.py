"""The discounts area of the staff admin: credits (admin_credits), codes and coupons.

Hidden when commerce is disabled (SPEC rule 29). Every write calls codes.services.
"""

from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from tuition.accounts.admin_roles import can_see_codes, mask_code
from tuition.catalog.models import Activity, Group
from tuition.core.actors import Actor
from tuition.core.admin_actors import ActorFieldsMixin
from tuition.core.admin_support import (
    CommerceAreaMixin,
    HistoryAdmin,
    ServiceForm,
    ServiceModelAdmin,
    actor_of,
)
from tuition.core.amounts import format_amount, parse_amount
from tuition.core.errors import DomainError
from tuition.core.errors import ValidationError as DomainValidationError

from . import (
    admin_credits,  # noqa: F401 - registers the credits admin
    selectors,
)
from . import services as codes
from .admin_credits import _request
from .models import Coupon, RedemptionCode, ScopeKind


def _code_text(code: RedemptionCode | None) -> str:
    if code is None:
        return "—"
    request = _request.get()
    text = selectors.reveal_code(code)
    if can_see_codes(getattr(request, "user", None)):
        return text or f"…{code.hint}"
    return mask_code(text, code.hint)


# --- pool and member codes -------------------------------------------------------------------


class PoolCodeForm(ServiceForm):
    member_email = forms.EmailField(
        required=False,
        label=_("Member email"),
        help_text=_("For a per-member code: the member who alone may use it."),
    )
    cap = forms.CharField(
        required=False,
        label=_("Spending cap"),
        help_text=_("Per-member codes: the most it may spend."),
    )
    code = forms.CharField(
        required=False, max_length=64, label=_("Code"), help_text=_("Leave blank to generate.")
    )

    class Meta:
        model = RedemptionCode
        fields = ["account", "unit", "label"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("account", "unit"):
            if name in self.fields:
                self.fields[name].required = True

    def apply(self, *, actor: Actor) -> RedemptionCode:
        data = self.cleaned_data
        unit = data["unit"]
        if data.get("member_email"):
            cap = (
                parse_amount(data["cap"].strip(), decimals=unit.decimals, field="cap")
                if data.get("cap")
                else None
            )
            new = codes.create_member_code(
                account_id=data["account"].pk,
                unit=unit,
                member_email=data["member_email"],
                cap=cap,
                code=data.get("code") or None,
                actor=actor,
            )
        else:
            new = codes.create_pool_code(
                account_id=data["account"].pk,
                unit=unit,
                code=data.get("code") or None,
                label=data.get("label") or "",
                actor=actor,
            )
        self.code_text = new.code_text
        return new.code


@admin.register(RedemptionCode)
class RedemptionCodeAdmin(ActorFieldsMixin, CommerceAreaMixin, ServiceModelAdmin, HistoryAdmin):
    """Every code in the one code space. Credit and coupon codes follow their credit or
    coupon; account pool and per-member codes are made, switched and retired here."""

    form = PoolCodeForm
    list_display = ["code_column", "kind", "account", "unit", "member", "status", "created_at"]
    list_filter = ["kind", "status", "unit"]
    list_select_related = ["account", "unit", "member", "lot", "coupon"]
    search_fields = ["label", "account__name", "member__email"]
    actions = ["deactivate_codes", "activate_codes", "retire_codes"]
    fields = ["account", "unit", "member_email", "cap", "label", "code"]

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        _request.set(request)
        return super().get_queryset(request).filter(deleted_at__isnull=True)

    def get_search_results(self, request, queryset, search_term):  # type: ignore[no-untyped-def]
        try:
            code = selectors.find_code(search_term.strip()) if search_term.strip() else None
        except DomainError:
            code = None
        if code is not None:
            return queryset.filter(pk=code.pk), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description=_("code"))
    def code_column(self, obj: RedemptionCode) -> str:
        return _code_text(obj)

    def get_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        if obj is None:
            return self.fields
        return [
            "code_column",
            "kind",
            "account",
            "unit",
            "member",
            "cap",
            "spent",
            "lot",
            "coupon",
            "label",
            "status",
            "created_at",
            "created_by_display",
        ]

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        return [] if obj is None else self.get_fields(request, obj)

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        # A code is switched on and off with the list actions, never edited in a form.
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False  # "retire" action: a credit's or coupon's code goes with its owner

    def response_add(self, request, obj, post_url_continue=None):  # type: ignore[no-untyped-def]
        text = getattr(getattr(request, "_code_form", None), "code_text", None)
        if text and can_see_codes(request.user):
            self.message_user(
                request, gettext("Code created: %(code)s") % {"code": text}, messages.SUCCESS
            )
        return super().response_add(request, obj, post_url_continue)

    def save_form(self, request, form, change):  # type: ignore[no-untyped-def]
        request._code_form = form
        return super().save_form(request, form, change)

    def _each(self, request, queryset, call, done: Any) -> None:  # type: ignore[no-untyped-def]
        count, refused = 0, []
        for code in queryset:
            if code.kind in (RedemptionCode.Kind.LOT, RedemptionCode.Kind.COUPON):
                refused.append(code.hint)
                continue
            try:
                call(code)
                count += 1
            except DomainError as exc:
                self.message_user(request, exc.message, messages.ERROR)
        if refused:
            self.message_user(
                request,
                ngettext(
                    "Credit and coupon codes follow their credit or coupon: "
                    "%(count)s left as it is.",
                    "Credit and coupon codes follow their credit or coupon: "
                    "%(count)s left as they are.",
                    len(refused),
                )
                % {"count": len(refused)},
                messages.WARNING,
            )
        self.message_user(request, done(count) % {"count": count}, messages.SUCCESS)

    @admin.action(description=_("Deactivate selected codes"), permissions=["change"])
    def deactivate_codes(self, request, queryset):  # type: ignore[no-untyped-def]
        actor = actor_of(request)
        self._each(
            request,
            queryset,
            lambda c: codes.set_code_status(code_id=c.pk, status="inactive", actor=actor),
            lambda n: ngettext("%(count)s code deactivated.", "%(count)s codes deactivated.", n),
        )

    @admin.action(description=_("Activate selected codes"), permissions=["change"])
    def activate_codes(self, request, queryset):  # type: ignore[no-untyped-def]
        actor = actor_of(request)
        self._each(
            request,
            queryset,
            lambda c: codes.set_code_status(code_id=c.pk, status="active", actor=actor),
            lambda n: ngettext("%(count)s code activated.", "%(count)s codes activated.", n),
        )

    @admin.action(description=_("Retire selected codes for good"), permissions=["change"])
    def retire_codes(self, request, queryset):  # type: ignore[no-untyped-def]
        actor = actor_of(request)
        self._each(
            request,
            queryset,
            lambda c: codes.delete_code(code_id=c.pk, actor=actor),
            lambda n: ngettext("%(count)s code retired.", "%(count)s codes retired.", n),
        )

    def get_actions(self, request, *args, **kwargs):  # type: ignore[no-untyped-def]
        actions = super().get_actions(request, *args, **kwargs)
        if super().has_change_permission(request):
            return actions
        return {}


# --- coupons ---------------------------------------------------------------------------------


def _percent_to_bp(value: str) -> int:
    try:
        number = Decimal(value.strip())
    except InvalidOperation as exc:
        raise DomainValidationError(
            gettext("Give the percentage as a number, e.g. 10 or 12.5."),
            details={"field": "percent_off"},
        ) from exc
    bp = number * 100
    if not number.is_finite() or bp != bp.to_integral_value():
        raise DomainValidationError(
            gettext("At most two decimals in a percentage."), details={"field": "percent_off"}
        )
    return int(bp)


def _coupon_items(data: dict[str, Any]) -> list[tuple[str, int]]:
    return [("activity", a.pk) for a in data.get("scope_activities") or []] + [
        ("group", g.pk) for g in data.get("scope_groups") or []
    ]


class CouponForm(ServiceForm):
    percent_off = forms.CharField(
        required=False, label=_("Percent off"), help_text=_("e.g. 10 for 10 %; 100 = free.")
    )
    amount_off = forms.CharField(
        required=False, label=_("Amount off"), help_text=_("USD off the card price, e.g. 50.00.")
    )
    code = forms.CharField(
        required=False, max_length=64, label=_("Code"), help_text=_("Leave blank to generate.")
    )
    scope_activities = forms.ModelMultipleChoiceField(
        queryset=Activity.objects.all(),
        required=False,
        label=_("Activities"),
        widget=FilteredSelectMultiple(_("activities"), is_stacked=False),
    )
    scope_groups = forms.ModelMultipleChoiceField(
        queryset=Group.objects.all(),
        required=False,
        label=_("Groups"),
        widget=FilteredSelectMultiple(_("groups"), is_stacked=False),
    )
    error_fields = {
        "discount": "percent_off",
        "scope.items": "scope_all",
        "scope.kind": "scope_kind",
    }

    class Meta:
        model = Coupon
        fields = [
            "name",
            "scope_kind",
            "scope_all",
            "valid_from",
            "valid_until",
            "max_uses",
            "once_per_learner",
            "status",
            "notes",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            items = list(self.instance.scope_items.values_list("item_kind", "item_id"))
            self.initial["scope_activities"] = [i for k, i in items if k == "activity"]
            self.initial["scope_groups"] = [i for k, i in items if k == "group"]

    def apply(self, *, actor: Actor) -> Coupon:
        data = self.cleaned_data
        if self.instance.pk is None:
            percent = data.get("percent_off") or ""
            amount = data.get("amount_off") or ""
            new = codes.create_coupon(
                name=data["name"],
                actor=actor,
                percent_off_bp=_percent_to_bp(percent) if percent else None,
                amount_off=(
                    parse_amount(amount.strip(), decimals=2, field="amount_off") if amount else None
                ),
                scope_kind=data["scope_kind"],
                scope_all=data.get("scope_all", False),
                scope_items=_coupon_items(data),
                valid_from=data.get("valid_from"),
                valid_until=data.get("valid_until"),
                max_uses=data.get("max_uses"),
                once_per_learner=data.get("once_per_learner", False),
                status=data["status"],
                notes=data.get("notes") or "",
                code=data.get("code") or None,
            )
            self.code_text = new.code_text
            return new.coupon
        changed = set(self.changed_data)
        changes = {
            k: data[k]
            for k in (
                "name",
                "status",
                "valid_from",
                "valid_until",
                "max_uses",
                "once_per_learner",
                "notes",
                "scope_all",
            )
            if k in changed
        }
        if changed & {"scope_activities", "scope_groups"}:
            changes["scope_items"] = _coupon_items(data)
        return codes.update_coupon(coupon_id=self.instance.pk, actor=actor, **changes)


@admin.register(Coupon)
class CouponAdmin(CommerceAreaMixin, ServiceModelAdmin, HistoryAdmin):
    form = CouponForm
    list_display = [
        "name",
        "code_column",
        "discount",
        "scope_kind",
        "valid_from",
        "valid_until",
        "uses",
        "max_uses",
        "status",
    ]
    list_filter = ["status", "scope_kind"]
    search_fields = ["name", "notes"]
    list_select_related = ["code"]
    actions = ["deactivate_coupons", "activate_coupons", "delete_selected"]

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        _request.set(request)
        return super().get_queryset(request).filter(deleted_at__isnull=True)

    @admin.display(description=_("code"))
    def code_column(self, obj: Coupon) -> str:
        try:
            return _code_text(obj.code)  # type: ignore[attr-defined]
        except RedemptionCode.DoesNotExist:
            return "—"

    @admin.display(description=_("discount"))
    def discount(self, obj: Coupon) -> str:
        if obj.percent_off_bp is not None:
            return f"{format_amount(obj.percent_off_bp, decimals=2)} %"
        return f"{format_amount(obj.amount_off or 0, decimals=2)} USD"

    def get_fieldsets(self, request, obj=None):  # type: ignore[no-untyped-def]
        main = [
            "name",
            "status",
            "valid_from",
            "valid_until",
            "max_uses",
            "once_per_learner",
            "notes",
        ]
        if obj is None:
            return [
                (None, {"fields": main}),
                (_("Discount (one of)"), {"fields": ["percent_off", "amount_off"]}),
                (
                    _("Scope"),
                    {"fields": ["scope_kind", "scope_all", "scope_activities", "scope_groups"]},
                ),
                (_("Code"), {"fields": ["code"]}),
            ]
        return [
            (None, {"fields": ["code_column", "discount", "uses", *main]}),
            (
                _("Scope"),
                {"fields": ["scope_kind", "scope_all", "scope_activities", "scope_groups"]},
            ),
        ]

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        if obj is None:
            return []
        fixed = ["code_column", "discount", "uses", "scope_kind"]
        if not self.has_change_permission(request, obj):
            return [
                *fixed,
                "name",
                "status",
                "valid_from",
                "valid_until",
                "max_uses",
                "once_per_learner",
                "notes",
                "scope_all",
            ]
        return fixed

    def response_add(self, request, obj, post_url_continue=None):  # type: ignore[no-untyped-def]
        text = getattr(getattr(request, "_coupon_form", None), "code_text", None)
        if text and can_see_codes(request.user):
            self.message_user(
                request,
                gettext("Coupon created. Its code is %(code)s") % {"code": text},
                messages.SUCCESS,
            )
        return super().response_add(request, obj, post_url_continue)

    def save_form(self, request, form, change):  # type: ignore[no-untyped-def]
        request._coupon_form = form
        return super().save_form(request, form, change)

    def _set_status(self, request, queryset, status: str) -> None:  # type: ignore[no-untyped-def]
        actor = actor_of(request)
        for coupon in queryset:
            codes.update_coupon(coupon_id=coupon.pk, status=status, actor=actor)
        count = len(queryset)
        message = (
            ngettext("%(count)s coupon now active.", "%(count)s coupons now active.", count)
            if status == Coupon.Status.ACTIVE
            else ngettext(
                "%(count)s coupon now inactive.", "%(count)s coupons now inactive.", count
            )
        )
        self.message_user(request, message % {"count": count}, messages.SUCCESS)

    @admin.action(description=_("Deactivate selected coupons"), permissions=["change"])
    def deactivate_coupons(self, request, queryset):  # type: ignore[no-untyped-def]
        self._set_status(request, queryset, Coupon.Status.INACTIVE)

    @admin.action(description=_("Activate selected coupons"), permissions=["change"])
    def activate_coupons(self, request, queryset):  # type: ignore[no-untyped-def]
        self._set_status(request, queryset, Coupon.Status.ACTIVE)

    def get_deleted_objects(self, objs, request):  # type: ignore[no-untyped-def]
        lines = [
            gettext("Coupon %(name)s: its code stops working") % {"name": c.name} for c in objs
        ]
        return (
            lines,
            {"coupons": len(lines)},
            set() if self.has_delete_permission(request) else {"coupon"},
            [],
        )

    def delete_model(self, request, obj):  # type: ignore[no-untyped-def]
        codes.delete_coupon(coupon_id=obj.pk, actor=actor_of(request))

    def delete_queryset(self, request, queryset):  # type: ignore[no-untyped-def]
        actor = actor_of(request)
        for coupon in queryset:
            codes.delete_coupon(coupon_id=coupon.pk, actor=actor)


# ScopeKind is re-exported for the import resources.
__all__ = ["CouponAdmin", "RedemptionCodeAdmin", "ScopeKind"]
