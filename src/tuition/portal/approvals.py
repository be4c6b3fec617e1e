"""Owner pages for approvals (SPEC §7): the redemptions waiting for a decision, with Approve
and Decline, and the account's approval rules. Thin: the services decide."""

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from tuition.catalog.models import Activity, Group
from tuition.checkout import approvals
from tuition.checkout.approval_models import MAX_HOLD_HOURS, MIN_HOLD_HOURS
from tuition.core.amounts import parse_amount
from tuition.core.errors import DomainError
from tuition.ledger.models import Hold, Unit

from .views import _actor, _error_status, _manage, _owned


class ApprovalRulesForm(forms.Form):
    """One optional amount per unit, the items that always need approval, the time limit."""

    hold_hours = forms.IntegerField(
        min_value=MIN_HOLD_HOURS,
        max_value=MAX_HOLD_HOURS,
        label=gettext_lazy("Release undecided requests after (hours)"),
        help_text=gettext_lazy("Between 1 hour and 30 days (720 hours)."),
    )
    items = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=gettext_lazy("Always ask me for these items"),
    )

    def __init__(self, *args: Any, units: list[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.units = units
        for unit in units:
            self.fields[f"above_{unit.code}"] = forms.CharField(
                required=False,
                max_length=24,
                label=_("Ask me for %(unit)s redemptions above") % {"unit": unit.name},
                help_text=_("Leave empty for no limit."),
            )
        self.fields["items"].choices = [  # type: ignore[attr-defined]
            (approvals.item_key("activity", a.pk), a.title)
            for a in Activity.objects.filter(is_published=True).order_by("title")
        ] + [
            (approvals.item_key("group", g.pk), g.title)
            for g in Group.objects.filter(is_published=True).order_by("title")
        ]

    def unit_fields(self) -> list[Any]:
        return [self[f"above_{unit.code}"] for unit in self.units]


def _rules_initial(account_id: int, units: list[Unit]) -> dict[str, Any]:
    policy = approvals.rules_for(account_id)
    initial: dict[str, Any] = {"hold_hours": policy.hold_hours if policy else 72}
    if policy is not None:
        initial["items"] = policy.items
        for unit in units:
            if unit.code in policy.above:
                initial[f"above_{unit.code}"] = unit.format(policy.above[unit.code])
    return initial


@login_required
def approvals_page(request: HttpRequest, account_id: int) -> HttpResponse:
    """Requests waiting for the owner, soonest deadline first, and the latest decided ones."""
    account = _owned(request, account_id)
    waiting = approvals.holds_of(account_ids=[account.pk], status=Hold.Status.PENDING).order_by(
        "hold__expires_at", "hold_id"
    )
    decided = approvals.holds_of(account_ids=[account.pk]).exclude(
        hold__status=Hold.Status.PENDING
    )[:20]
    return _manage(
        request,
        "approvals.html",
        account,
        "approvals",
        waiting=list(waiting),
        decided=list(decided),
        rules=approvals.rules_for(account.pk),
    )


@login_required
@require_POST
def decide(request: HttpRequest, account_id: int, hold_id: int, verdict: str) -> HttpResponse:
    account = _owned(request, account_id)
    order = approvals.holds_of(account_ids=[account.pk]).filter(hold_id=hold_id).first()
    if order is None or verdict not in ("approve", "decline"):
        from django.http import Http404

        raise Http404
    try:
        if verdict == "approve":
            approvals.approve(hold_id=hold_id, actor=_actor(request))
            messages.success(
                request,
                _("Approved: %(learner)s is registered for %(item)s.")
                % {"learner": order.learner.email, "item": order.title},
            )
        else:
            approvals.decline(hold_id=hold_id, actor=_actor(request))
            messages.success(
                request,
                _("Declined: the amount is available again."),
            )
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("portal:approvals", account_id=account.pk)


@login_required
def rules_page(request: HttpRequest, account_id: int) -> HttpResponse:
    account = _owned(request, account_id)
    units = list(Unit.objects.filter(is_active=True).order_by("-is_builtin", "code"))
    form = ApprovalRulesForm(
        request.POST if request.method == "POST" else None,
        units=units,
        initial=_rules_initial(account.pk, units),
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                above = {}
                for unit in units:
                    raw = (form.cleaned_data.get(f"above_{unit.code}") or "").strip()
                    if raw:
                        try:
                            above[unit.code] = parse_amount(
                                raw, decimals=unit.decimals, allow_zero=True
                            )
                        except DomainError as error:
                            form.add_error(f"above_{unit.code}", error.message)
                            raise
                approvals.set_rules(
                    account_id=account.pk,
                    above=above,
                    items=form.cleaned_data["items"],
                    hold_hours=form.cleaned_data["hold_hours"],
                    actor=_actor(request),
                )
            except DomainError as error:
                if not form.errors:
                    form.add_error(None, error.message)
                status = _error_status(error)
            else:
                messages.success(request, _("The approval rules are saved."))
                return redirect("portal:approvals", account_id=account.pk)
    return _manage(request, "approval_rules.html", account, "approvals", status=status, form=form)
