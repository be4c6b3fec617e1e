"""What every staff admin page shares: who the actor is, the commerce switch, read-only
ModelAdmins, and forms whose save is a service call.

The stock admin would save models itself (ModelForm.save, QuerySet.delete, ...). Here every
write goes through a service: a `ServiceForm` calls its service at the end of validation, so a
refusal from the service (a DomainError) is shown on the form like any other error, and the
ModelAdmin's own save steps do nothing but hand the service's result back to the admin.
"""

from operator import attrgetter
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from tuition.core.actors import ADMIN, Actor
from tuition.core.display import money, when
from tuition.core.errors import DomainError
from tuition.core.features import commerce_enabled


def actor_of(request: HttpRequest) -> Actor:
    """The staff member behind a request, as an actor reference (via the admin)."""
    return Actor.for_user(request.user, via=ADMIN)


def add_domain_error(
    form: forms.BaseForm, exc: DomainError, *, fields: dict[str, str] | None = None
) -> None:
    """Show a service refusal on the form: on the field it names when the form has it."""
    field = exc.details.get("field") if isinstance(exc.details, dict) else None
    field = (fields or {}).get(field, field) if field else None
    form.add_error(field if field in form.fields else None, exc.message)


class ServiceForm(forms.ModelForm):
    """A ModelForm that never saves its instance: `apply()` calls a service instead.

    The model's own validation is skipped on purpose; the service is the one place the rules
    live. `apply` runs only when every field is valid, and its result is kept in `result`.
    """

    actor: Actor | None = None
    request: HttpRequest | None = None
    error_fields: dict[str, str] = {}  # service field name -> form field name

    def _post_clean(self) -> None:
        if self.errors:
            return
        try:
            assert self.actor is not None, "the admin sets the actor (get_form)"
            self.result = self.apply(actor=self.actor)
        except DomainError as exc:
            add_domain_error(self, exc, fields=self.error_fields)

    def apply(self, *, actor: Actor) -> Any:  # pragma: no cover - every form defines it
        raise NotImplementedError

    def save(self, commit: bool = True) -> Any:
        return getattr(self, "result", None) or self.instance


class ServiceModelAdmin(admin.ModelAdmin):
    """Saves through the form's service call; Django's own save steps are disabled."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):  # type: ignore[no-untyped-def]
        # No enclosing transaction: each service opens its own durable one (with retries), so
        # a refused write leaves nothing behind.
        return self._changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):  # type: ignore[no-untyped-def]
        form = super().get_form(request, obj, change=change, **kwargs)
        if issubclass(form, ServiceForm):
            form = type(form.__name__, (form,), {"actor": actor_of(request), "request": request})
        return form

    def save_form(self, request, form, change):  # type: ignore[no-untyped-def]
        return form.save(commit=False)

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        """Already saved by the service in form validation."""

    def save_related(self, request, form, formsets, change):  # type: ignore[no-untyped-def]
        """Related rows (scope lists, prices, members) are written by the service too."""
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Listed and viewed, never added, changed or deleted through the admin."""

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


class CommerceAreaMixin:
    """The discounts area (credits, codes, coupons) exists only when commerce is enabled
    (SPEC rule 29): hidden from the index and refused by URL when it is off."""

    def has_module_permission(self, request):  # type: ignore[no-untyped-def]
        return commerce_enabled() and super().has_module_permission(request)  # type: ignore[misc]

    def get_model_perms(self, request):  # type: ignore[no-untyped-def]
        if not commerce_enabled():
            return {}
        return super().get_model_perms(request)  # type: ignore[misc]

    def has_view_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return commerce_enabled() and super().has_view_permission(request, obj)  # type: ignore[misc]

    def has_add_permission(self, request, *args):  # type: ignore[no-untyped-def]
        return commerce_enabled() and super().has_add_permission(request, *args)  # type: ignore[misc]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return commerce_enabled() and super().has_change_permission(request, obj)  # type: ignore[misc]

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return commerce_enabled() and super().has_delete_permission(request, obj)  # type: ignore[misc]


class HistoryAdmin(SimpleHistoryAdmin):
    """Change history on every editable record, without "revert": a revert would write the
    old row back directly, past the services and their rules."""

    def revert_disabled(self, request, obj=None):  # type: ignore[no-untyped-def]
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):  # type: ignore[no-untyped-def]
        if request.method == "POST":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


class ReadableAmountsMixin:
    """Amounts and times as people read them on the staff pages ("$200.00", "3 TT",
    "1 Dec 2026, 14:05 UTC"), never minor units.

    `money_fields` maps an integer amount field to the attribute holding its unit (None: USD).
    Each gets a display `<field>_money` for `list_display`, and read-only pages show it in the
    field's place. `time_fields` likewise get `<field>_when`, in the provider's zone.
    """

    money_fields: dict[str, str | None] = {}
    time_fields: tuple[str, ...] = ()

    def __getattr__(self, name: str) -> Any:
        base, _, suffix = name.rpartition("_")
        cls = type(self)
        if suffix == "money" and base in cls.money_fields:
            return _money_display(self, base, cls.money_fields[base])
        if suffix == "when" and base in cls.time_fields:
            return _time_display(self, base)
        raise AttributeError(name)

    def get_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        fields = list(super().get_fields(request, obj))  # type: ignore[misc]
        if obj is not None and not self.has_change_permission(request, obj):  # type: ignore[attr-defined]
            return [self._readable(name) for name in fields]
        return fields

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        names = list(super().get_readonly_fields(request, obj))  # type: ignore[misc]
        return [self._readable(name) for name in names]

    def _readable(self, name: Any) -> Any:
        if isinstance(name, str) and name in type(self).money_fields:
            return f"{name}_money"
        if isinstance(name, str) and name in type(self).time_fields:
            return f"{name}_when"
        return name


def _label(model_admin: Any, name: str) -> str:
    try:
        return str(model_admin.model._meta.get_field(name).verbose_name)
    except Exception:
        return name.replace("_", " ")


def _money_display(model_admin: Any, name: str, unit_attr: str | None) -> Any:
    def show(obj: Any) -> str:
        unit = attrgetter(unit_attr)(obj) if unit_attr else None
        return money(getattr(obj, name), unit)

    show.short_description = _label(model_admin, name)  # type: ignore[attr-defined]
    show.admin_order_field = name  # type: ignore[attr-defined]
    return show


def _time_display(model_admin: Any, name: str) -> Any:
    def show(obj: Any) -> str:
        return when(getattr(obj, name))

    show.short_description = _label(model_admin, name)  # type: ignore[attr-defined]
    show.admin_order_field = name  # type: ignore[attr-defined]
    return show
