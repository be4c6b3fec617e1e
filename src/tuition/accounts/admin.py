import re
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models.signals import post_migrate
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from tuition.core.actors import Actor
from tuition.core.admin_support import HistoryAdmin, ServiceForm, ServiceModelAdmin
from tuition.ledger.admin import HoldInline

from . import services as accounts
from .admin_roles import on_post_migrate
from .forecast_panels import forecast_panels
from .models import Membership, TrainingAccount, User
from .services import update_account

# Staff roles exist after every migrate and test-database flush (see admin_roles).
post_migrate.connect(on_post_migrate, dispatch_uid="tuition.accounts.staff_roles")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "name", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active", "groups"]
    search_fields = ["email", "name"]
    fieldsets = (
        (None, {"fields": ("email", "password", "name")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


class MembershipInline(admin.TabularInline):
    """Shown here; changed through the account form's member fields (accounts.services)."""

    model = Membership
    extra = 0
    can_delete = False
    fields = ["user", "role", "can_view_balance", "notify", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


class AccountForm(ServiceForm):
    owner_emails = forms.CharField(
        required=False,
        label=_("Owners"),
        help_text=_("New account: owners' emails, comma separated."),
    )
    add_email = forms.EmailField(
        required=False,
        label=_("Add a person"),
        help_text=_("Adds (or updates) this person on the account."),
    )
    add_role = forms.ChoiceField(
        choices=Membership.Role.choices, required=False, initial=Membership.Role.MEMBER
    )
    add_can_view_balance = forms.BooleanField(required=False, label=_("May see the balance"))
    add_notify = forms.BooleanField(required=False, label=_("Receives notifications"))
    remove_members = forms.ModelMultipleChoiceField(
        queryset=Membership.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Take these people off the account."),
    )

    class Meta:
        model = TrainingAccount
        fields = ["name", "external_id", "redeemer_policy"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "remove_members" in self.fields and self.instance.pk:
            self.fields["remove_members"].queryset = Membership.objects.filter(
                account=self.instance
            ).select_related("user")

    def apply(self, *, actor: Actor) -> TrainingAccount:
        data = self.cleaned_data
        if self.instance.pk is None:
            owners = [e.strip() for e in (data.get("owner_emails") or "").split(",") if e.strip()]
            account = accounts.create_account(
                name=data["name"],
                owners=owners,
                external_id=data.get("external_id") or None,
                redeemer_policy=data["redeemer_policy"],
                actor=actor,
            )
        else:
            changes = {
                k: data[k]
                for k in ("name", "external_id", "redeemer_policy")
                if k in self.changed_data
            }
            account = update_account(account_id=self.instance.pk, actor=actor, **changes)
        if data.get("add_email"):
            accounts.add_member(
                account=account,
                email=data["add_email"],
                role=data.get("add_role") or Membership.Role.MEMBER,
                can_view_balance=data.get("add_can_view_balance", False),
                notify=data.get("add_notify", False),
                actor=actor,
            )
        for membership in data.get("remove_members") or []:
            accounts.remove_member(membership=membership, actor=actor)
        return account


@admin.register(TrainingAccount)
class TrainingAccountAdmin(ServiceModelAdmin, HistoryAdmin):
    form = AccountForm
    list_display = ["name", "external_id", "redeemer_policy", "is_personal", "created_at"]
    list_filter = ["redeemer_policy", "is_personal"]
    search_fields = ["name", "external_id", "memberships__user__email"]
    # Other parts add theirs (autorefills: the account's rules and what they bought).
    inlines = [MembershipInline, HoldInline]

    def get_fieldsets(self, request, obj=None):  # type: ignore[no-untyped-def]
        main = (None, {"fields": ["name", "external_id", "redeemer_policy"]})
        if obj is None:
            return [main, (_("Owners"), {"fields": ["owner_emails"]})]
        return [
            main,
            ("Balance", {"fields": ["balances"]}),
            ("Forecast", {"fields": ["balance_forecast"]}),
            (
                _("Members"),
                {
                    "fields": [
                        "add_email",
                        "add_role",
                        "add_can_view_balance",
                        "add_notify",
                        "remove_members",
                    ]
                },
            ),
        ]

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        return [] if obj is None else ["is_personal", "balances", "balance_forecast"]

    @admin.display(description="balances")
    def balances(self, obj: TrainingAccount) -> str:
        """Available and held apart, per unit (SPEC §7)."""
        from tuition.core.display import money
        from tuition.ledger.selectors import get_balances

        return (
            "; ".join(
                f"{money(b.available, b.unit)} available"
                + (f", {money(b.held, b.unit)} held for approval" if b.held else "")
                for b in get_balances(account_id=obj.pk)
            )
            or "—"
        )

    @admin.display(description="At the recent rate")
    def balance_forecast(self, obj: TrainingAccount) -> str:
        """When the balance runs out at the last 90 days' rate and what expires unused (the
        owner sees the same on the account page)."""
        panels = forecast_panels(obj.pk)
        if not panels:
            return "No balance and no recent usage."
        html = render_to_string(
            "portal/partials/forecast.html", {"forecast_panels": panels, "compact": False}
        )
        # The admin turns line breaks of a read-only value into <br>: keep it on one line.
        return mark_safe(re.sub(r"\s*\n\s*", " ", html))  # noqa: S308 - our own template

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False  # lots and transfers point at accounts
