"""The owner's "Automatic refills" section (on the Purchase refill page): set a threshold or a
monthly allowance per unit, pause, resume or stop it, see what it bought and what comes next."""

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from tuition.autorefills import selectors as automatic
from tuition.autorefills import services as autorefills
from tuition.autorefills.models import RefillRule
from tuition.core.amounts import parse_amount
from tuition.core.errors import DomainError


class AutomaticRefillForm(forms.Form):
    unit = forms.ChoiceField(label=gettext_lazy("For"))
    kind = forms.ChoiceField(
        choices=[
            ("threshold", gettext_lazy("When the balance falls below a threshold")),
            ("allowance", gettext_lazy("Every month, on the first")),
        ],
        initial="threshold",
        widget=forms.RadioSelect,
        label=gettext_lazy("Buy"),
    )
    threshold = forms.CharField(
        required=False,
        max_length=24,
        label=gettext_lazy("Threshold"),
        help_text=gettext_lazy("Buy when the available balance falls below this."),
    )
    amount = forms.CharField(
        max_length=24,
        label=gettext_lazy("Amount each time"),
        help_text=gettext_lazy("How many credits or tokens each refill adds."),
    )
    payment = forms.ChoiceField(
        choices=[
            ("sandbox", gettext_lazy("Card")),
            ("invoice", gettext_lazy("Invoice (pay later)")),
        ],
        initial="sandbox",
        widget=forms.RadioSelect,
        label=gettext_lazy("Pay by"),
    )
    card_number = forms.CharField(
        required=False,
        max_length=32,
        label=gettext_lazy("Card number"),
        help_text=gettext_lazy(
            "Stored with the card provider; we keep only the last four digits. Leave empty to "
            "keep the card already saved for this unit. Sandbox: 4242 4242 4242 4242."
        ),
    )

    def __init__(self, *args, units: list[tuple[str, str]], **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = units  # type: ignore[attr-defined]


def section(account_id: int, units: list[tuple[str, str]], form: Any = None) -> dict[str, Any]:
    """What the refill page shows in its Automatic refills section."""
    return {
        "automatic_rules": automatic.summaries(account_id),
        "automatic_form": form or AutomaticRefillForm(units=units, prefix="auto"),
    }


def _field_of(error: DomainError) -> str | None:
    field = error.details.get("field")
    known = {"threshold", "amount", "card_number", "kind"}
    if field == "method":
        return "payment"
    return field if field in known else None


@login_required
@require_POST
def set_automatic_refill(request: HttpRequest, account_id: int) -> HttpResponse:
    from . import views

    account = views._owned(request, account_id)
    priced = [(u, p) for u, p in views.selectors.refill_units()]
    choices = [(u.code, views._unit_label(u)) for u, _p in priced]
    form = AutomaticRefillForm(request.POST, units=choices, prefix="auto")
    status = 400
    if form.is_valid():
        unit = next(u for u, _p in priced if u.code == form.cleaned_data["unit"])
        kind = form.cleaned_data["kind"]
        try:
            threshold = None
            if kind == RefillRule.Kind.THRESHOLD:
                threshold = parse_amount(
                    form.cleaned_data["threshold"] or "", decimals=unit.decimals, field="threshold"
                )
            rule = autorefills.set_rule(
                account_id=account.pk,
                unit=unit,
                rule=autorefills.RuleInput(
                    kind=kind,
                    amount=parse_amount(form.cleaned_data["amount"], decimals=unit.decimals),
                    provider=form.cleaned_data["payment"],
                    threshold=threshold,
                    card_number=form.cleaned_data.get("card_number") or None,
                ),
                buyer=request.user,  # type: ignore[arg-type]
                actor=views._actor(request),
            )
        except DomainError as error:
            form.add_error(_field_of(error), error.message)
            status = views._error_status(error)
        else:
            messages.success(
                request,
                _("Automatic refill saved for %(unit)s.") % {"unit": views._unit_label(rule.unit)},
            )
            return redirect(f"{_refill_url(account.pk)}#automatic")
    return views.refill_page(request, account, status=status, automatic_form=form)


def _refill_url(account_id: int) -> str:
    from django.urls import reverse

    return reverse("portal:refill", args=[account_id])


def _change(request: HttpRequest, account_id: int, rule_id: int, action: str) -> HttpResponse:
    from . import views

    account = views._owned(request, account_id)
    change = {
        "pause": autorefills.pause_rule,
        "resume": autorefills.resume_rule,
        "delete": autorefills.delete_rule,
    }[action]
    try:
        change(rule_id=rule_id, account_id=account.pk, actor=views._actor(request))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            {
                "pause": _("Automatic refill paused: it buys nothing until you resume it."),
                "resume": _("Automatic refill resumed."),
                "delete": _("Automatic refill removed."),
            }[action],
        )
    return redirect(f"{_refill_url(account.pk)}#automatic")


@login_required
@require_POST
def pause_automatic_refill(request: HttpRequest, account_id: int, rule_id: int) -> HttpResponse:
    return _change(request, account_id, rule_id, "pause")


@login_required
@require_POST
def resume_automatic_refill(request: HttpRequest, account_id: int, rule_id: int) -> HttpResponse:
    return _change(request, account_id, rule_id, "resume")


@login_required
@require_POST
def delete_automatic_refill(request: HttpRequest, account_id: int, rule_id: int) -> HttpResponse:
    return _change(request, account_id, rule_id, "delete")
