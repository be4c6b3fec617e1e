"""The owner's "Automatic refills" section (on the Purchase refill page): set a threshold or a
monthly allowance per unit, pause, resume or stop it, see what it bought and what comes next."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tuition.autorefills import services as autorefills
from tuition.autorefills.models import RefillRule
from tuition.core.amounts import parse_amount
from tuition.core.errors import DomainError

from . import forms as portal_forms
from . import views


def _field_of(error: DomainError) -> str | None:
    field = error.details.get("field")
    known = {"threshold", "amount", "card_number", "kind"}
    if field == "method":
        return "payment"
    return field if field in known else None


@login_required
@require_POST
def set_automatic_refill(request: HttpRequest, account_id: int) -> HttpResponse:
    account = views._owned(request, account_id)
    priced = [(u, p) for u, p in views.selectors.refill_units()]
    choices = [(u.code, views._unit_label(u)) for u, _p in priced]
    form = portal_forms.AutomaticRefillForm(request.POST, units=choices, prefix="auto")
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
