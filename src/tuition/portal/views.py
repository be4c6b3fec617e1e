"""Learner and owner pages. Thin: read with selectors, write with services, show the service's
own message (SPEC §4) next to the field it is about."""

from datetime import date
from typing import Any

from babel.dates import format_date
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tuition.accounts import services as accounts
from tuition.accounts.forecast_panels import forecast_panels
from tuition.accounts.models import Membership, TrainingAccount
from tuition.autorefills import selectors as automatic
from tuition.checkout import approvals
from tuition.checkout import document_content as documents
from tuition.checkout import services as checkout
from tuition.checkout.pdf import render_pdf
from tuition.codes import services as codes
from tuition.codes.selectors import can_see_code, reveal_code
from tuition.core import charts, l10n
from tuition.core.actors import PAGES, Actor
from tuition.core.amounts import parse_amount
from tuition.core.errors import DomainError
from tuition.core.http import client_ip
from tuition.core.observability import note_outcome
from tuition.ledger.models import Unit
from tuition.ledger.selectors import get_balances

from . import forms, selectors
from . import services as portal


def _actor(request: HttpRequest) -> Actor:
    return Actor.for_user(request.user, via=PAGES)


def _error_status(error: DomainError) -> int:
    return error.status if 400 <= error.status < 500 else 400


# --- home and catalog ------------------------------------------------------------------------


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/home.html", {"entries": selectors.catalog_entries()})


def catalog(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/catalog.html", {"entries": selectors.catalog_entries()})


def item(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    entry = selectors.catalog_item(kind, pk)
    if entry is None:
        raise Http404
    context: dict[str, Any] = {"entry": entry}
    if kind == "activity":
        context["sessions"] = selectors.sessions_of(pk) if entry.obj.is_dated else []  # type: ignore[union-attr]
    else:
        context["activities"] = entry.obj.activities.all()  # type: ignore[union-attr]
    if request.user.is_authenticated:
        row = selectors.learning_row_for(request.user, kind, pk)  # type: ignore[arg-type]
        context["registered"] = row is not None
        if row is not None and kind == "activity":
            # A registered learner manages the date here too: Find another time, Unenroll.
            context["row"] = row
            context["part"] = next((p for p in row.dated if p.activity.pk == pk), None)
    return render(request, "portal/item.html", context)


# --- checkout ----------------------------------------------------------------------------------


def _checkout_entry(kind: str, pk: int) -> selectors.CatalogEntry:
    entry = selectors.catalog_item(kind, pk)
    if entry is None:
        raise Http404
    return entry


def _payment(form: forms.CheckoutForm) -> checkout.PaymentChoice:
    data = form.cleaned_data
    code = data.get("code") or None
    card_number = data.get("card_number") or None  # pays what a coupon leaves, whatever the method
    if data["method"] == "card":
        return checkout.PaymentChoice(method="card", coupon=code, card_number=card_number)
    return checkout.PaymentChoice(method="code", code=code, card_number=card_number)


def _item_ids(kind: str, pk: int, session: int | None) -> dict[str, int | None]:
    return {
        "activity_id": pk if kind == "activity" else None,
        "group_id": pk if kind == "group" else None,
        "session_id": session,
    }


def _checkout_context(
    entry: selectors.CatalogEntry, form: forms.CheckoutForm, session_id: int | None
) -> dict[str, Any]:
    session = None
    if entry.kind == "activity" and session_id:
        session = next((s for s in selectors.sessions_of(entry.pk) if s.pk == session_id), None)
    needs_session = entry.kind == "activity" and entry.obj.is_dated  # type: ignore[union-attr]
    return {
        "entry": entry,
        "form": form,
        "session": session,
        "needs_session": needs_session,
        "sessions": selectors.sessions_of(entry.pk) if needs_session and not session else [],
    }


def _session_param(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() else None


@login_required
def checkout_page(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    entry = _checkout_entry(kind, pk)
    if request.method != "POST":
        session_id = _session_param(request.GET.get("session"))
        form = forms.CheckoutForm(initial={"session": session_id})
        return render(request, "portal/checkout.html", _checkout_context(entry, form, session_id))
    form = forms.CheckoutForm(request.POST)
    session_id = _session_param(request.POST.get("session"))
    status = 200
    if form.is_valid():
        try:
            result = checkout.checkout(
                learner_email=request.user.email,
                payment=_payment(form),  # type: ignore[union-attr]
                actor=_actor(request),
                ip=client_ip(request),
                **_item_ids(kind, pk, session_id),
            )
        except DomainError as error:
            form.add_error(_error_field(error), error.message)
            status = _error_status(error)
            note_outcome(request, error.code)
        else:
            return redirect("portal:order", number=result.order.number)
    else:
        status = 400
    return render(
        request, "portal/checkout.html", _checkout_context(entry, form, session_id), status=status
    )


_CODE_ERRORS = {
    "code_not_found",
    "code_inactive",
    "code_expired",
    "insufficient_balance",
    "not_in_scope",
    "not_priced_in_unit",
    "not_eligible",
    "one_code_only",
    "too_many_attempts",
}


def _error_field(error: DomainError) -> str | None:
    """The checkout field a refusal is about, to show it there (None: the whole form)."""
    if error.code == "payment_declined":
        return "card_number"
    if error.code in _CODE_ERRORS or error.details.get("field") == "payment.code":
        return "code"
    return None


@login_required
@require_POST
def checkout_quote(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """The Apply button: what checkout would charge, or the message it would give."""
    entry = _checkout_entry(kind, pk)
    form = forms.CheckoutForm(request.POST)
    context: dict[str, Any] = {"entry": entry}
    if form.is_valid():
        try:
            context["quote"] = checkout.quote(
                learner_email=request.user.email,
                payment=_payment(form),  # type: ignore[union-attr]
                actor=_actor(request),
                ip=client_ip(request),
                **_item_ids(kind, pk, _session_param(request.POST.get("session"))),
            )
        except DomainError as error:
            context["error"] = error
    else:
        context["error_text"] = _("Check the form.")
    return render(request, "portal/partials/quote.html", context)


@login_required
def order(request: HttpRequest, number: str) -> HttpResponse:
    found = selectors.order_for(request.user, number)  # type: ignore[arg-type]
    if found is None:
        raise Http404
    return render(
        request,
        "portal/order.html",
        {
            "order": found,
            "receipt": getattr(found, "receipt", None),
            "invoice": getattr(found, "invoice", None),
            "documents": [
                documents.document_for(found, kind) for kind in documents.available_kinds(found)
            ],
        },
    )


@login_required
def document(request: HttpRequest, number: str, kind: str) -> HttpResponse:
    """A receipt, invoice or credit note as a page (the PDF is one click away)."""
    found = selectors.order_for(request.user, number)  # type: ignore[arg-type]
    doc = documents.document_for(found, kind) if found is not None else None
    if doc is None:
        raise Http404
    return render(request, "portal/document.html", {"order": found, "doc": doc, "kind": kind})


@login_required
def document_pdf(request: HttpRequest, number: str, kind: str) -> HttpResponse:
    """The same document as a PDF download, for the learner, the account's owners and staff."""
    found = selectors.order_for(request.user, number)  # type: ignore[arg-type]
    doc = documents.document_for(found, kind) if found is not None else None
    if doc is None:
        raise Http404
    response = HttpResponse(render_pdf(doc), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{doc.filename}"'
    return response


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    """A person's own settings: name, language, and the time zone of their emails."""
    user = request.user
    initial = {"name": user.name, "language": user.language, "timezone": user.timezone}  # type: ignore[union-attr]
    form = forms.ProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            accounts.update_profile(user_id=user.pk, actor=_actor(request), **form.cleaned_data)
        except DomainError as error:
            form.add_error(error.details.get("field"), error.message)
        else:
            language = form.cleaned_data["language"] or translation.get_language()
            translation.activate(language)
            messages.success(request, _("Your settings are saved."))
            return redirect("portal:profile")
    return render(request, "portal/profile.html", {"form": form})


# --- my learning -----------------------------------------------------------------------------


@login_required
def learning(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "portal/learning.html",
        {
            "rows": selectors.learning_of(request.user),  # type: ignore[arg-type]
            "waiting": approvals.waiting_orders_of(request.user),  # type: ignore[arg-type]
            "balances": selectors.balances_visible_to(request.user),  # type: ignore[arg-type]
        },
    )


@login_required
def sessions_for(request: HttpRequest, registration_id: int, activity_id: int) -> HttpResponse:
    """Find Another Time (or book a date after unenrolling): the other upcoming sessions."""
    registration = selectors.registration_of(request.user, registration_id)  # type: ignore[arg-type]
    if registration is None:
        raise Http404
    rows = [
        r
        for r in selectors.learning_of(request.user)  # type: ignore[arg-type]
        if r.registration.pk == registration.pk
    ]
    part = next((p for p in rows[0].dated if p.activity.pk == activity_id), None) if rows else None
    if part is None:
        raise Http404
    error = None
    if request.method == "POST":
        session_id = _session_param(request.POST.get("session"))
        try:
            arguments = {
                "registration_id": registration.pk,
                "session_id": session_id or 0,
                "actor": _actor(request),
                "learner": request.user,
                "activity_id": activity_id,
            }
            if part.booking is not None:
                checkout.reschedule_booking(**arguments)
                messages.success(
                    request, _("Moved to another time: %(title)s.") % {"title": part.activity.title}
                )
            else:
                checkout.book_session(**arguments)
                messages.success(request, _("Booked: %(title)s.") % {"title": part.activity.title})
            return redirect("portal:learning")
        except DomainError as exc:
            error = exc.message
    sessions = selectors.sessions_of(activity_id)
    return render(
        request,
        "portal/sessions.html",
        {
            "registration": registration,
            "part": part,
            "sessions": sessions,
            "error": error,
        },
        status=422 if error else 200,
    )


@login_required
@require_POST
def unenroll(request: HttpRequest, registration_id: int, activity_id: int) -> HttpResponse:
    try:
        checkout.unenroll_from_session(
            registration_id=registration_id,
            actor=_actor(request),
            learner=request.user,
            activity_id=activity_id,
        )  # type: ignore[arg-type]
        messages.success(
            request,
            _(
                "You left the session. Your registration stays active: "
                "book another date whenever you like."
            ),
        )
    except DomainError as error:
        if error.status == 404:
            raise Http404 from error
        messages.error(request, error.message)
    return redirect("portal:learning")


@login_required
@require_POST
def cancel(request: HttpRequest, registration_id: int) -> HttpResponse:
    try:
        registration = checkout.cancel_registration(
            registration_id=registration_id, actor=_actor(request), learner=request.user
        )  # type: ignore[arg-type]
        messages.success(
            request,
            _("Registration cancelled and refunded.")
            if registration.refunded
            else _("Registration cancelled."),
        )
    except DomainError as error:
        if error.status == 404:
            raise Http404 from error
        messages.error(request, error.message)
    return redirect("portal:learning")


# --- the training account (owners) ----------------------------------------------------------------


def _owned(request: HttpRequest, account_id: int) -> TrainingAccount:
    account = selectors.owned_account(request.user, account_id)  # type: ignore[arg-type]
    if account is None:
        raise Http404
    return account


def _manage(
    request: HttpRequest,
    template: str,
    account: TrainingAccount,
    tab: str,
    status: int = 200,
    **context: Any,
) -> HttpResponse:
    return render(
        request,
        f"portal/manage/{template}",
        {"account": account, "tab": tab, **context},
        status=status,
    )


@login_required
def manage_index(request: HttpRequest) -> HttpResponse:
    owned = list(selectors.owned_accounts(request.user))  # type: ignore[arg-type]
    if len(owned) == 1:
        return redirect("portal:account", account_id=owned[0].pk)
    return render(request, "portal/manage/index.html", {"accounts": owned})


@login_required
def account_overview(request: HttpRequest, account_id: int) -> HttpResponse:
    account = _owned(request, account_id)
    return _manage(
        request,
        "overview.html",
        account,
        "overview",
        balances=get_balances(account_id=account.pk),
        forecast_panels=forecast_panels(account.pk),
    )


@login_required
def account_transactions(request: HttpRequest, account_id: int) -> HttpResponse:
    account = _owned(request, account_id)
    return _manage(
        request,
        "transactions.html",
        account,
        "transactions",
        rows=list(selectors.transaction_rows(account.pk, limit=200)),
        forecast_panels=forecast_panels(account.pk),
    )


@login_required
def account_usage(request: HttpRequest, account_id: int) -> HttpResponse:
    account = _owned(request, account_id)
    units = selectors.usage_units(account.pk)
    unit = next((u for u in units if u.code == request.GET.get("unit")), None) or (
        units[0] if units else Unit.objects.get(code=Unit.USD)
    )
    usage = selectors.usage_by_member(account.pk)
    in_unit = [row for row in usage if row.unit.pk == unit.pk]
    by_member = charts.horizontal_bars(
        [(row.name or row.email, row.spent, _number(unit, row.spent)) for row in in_unit]
    )
    months = selectors.usage_by_month(account.pk, unit)
    over_time = charts.columns(
        [(_month_label(month), total, _number(unit, total)) for month, total in months]
    )
    return _manage(
        request,
        "usage.html",
        account,
        "usage",
        usage=usage,
        unit=unit,
        units=units,
        by_member=by_member,
        over_time=over_time,
        months=months,
    )


def _month_label(month: date) -> str:
    """ "Dec 26", "Dez. 26", "dic 26": the reader's month names."""
    return format_date(month, "MMM yy", locale=l10n.locale_name())


def _number(unit: Unit, minor: int) -> str:
    return l10n.number(minor, decimals=unit.decimals)


def _unit_choices() -> list[tuple[str, str]]:
    return [
        (u.code, _unit_label(u))
        for u in Unit.objects.filter(is_active=True).order_by("-is_builtin", "code")
    ]


def _unit_label(unit: Unit) -> str:
    return unit.name if unit.code in unit.name else f"{unit.name} ({unit.code})"


@login_required
def account_refill(request: HttpRequest, account_id: int) -> HttpResponse:
    account = _owned(request, account_id)
    priced = selectors.refill_units()
    choices = [(u.code, _unit_label(u)) for u, _ in priced]
    form = forms.RefillForm(request.POST or None, units=choices)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            unit = next(u for u, _ in priced if u.code == form.cleaned_data["unit"])
            try:
                amount = parse_amount(form.cleaned_data["amount"], decimals=unit.decimals)
                placed = checkout.purchase_refill(
                    account_id=account.pk,
                    unit=unit,
                    amount=amount,
                    buyer_email=request.user.email,
                    actor=_actor(request),  # type: ignore[union-attr]
                    provider=form.cleaned_data["payment"],
                    card_number=form.cleaned_data.get("card_number") or None,
                )
            except DomainError as error:
                form.add_error(
                    "amount" if error.details.get("field") == "amount" else None, error.message
                )
                status = _error_status(error)
            else:
                if placed.status == placed.Status.PAID:
                    messages.success(
                        request, _("Refill bought: %(title)s.") % {"title": placed.title}
                    )
                else:
                    messages.success(
                        request,
                        _("Invoice %(number)s issued; the credits arrive when it is paid.")
                        % {"number": placed.invoice.number},
                    )
                return redirect("portal:order", number=placed.number)
    return refill_page(request, account, status=status, form=form)


def refill_page(
    request: HttpRequest,
    account: TrainingAccount,
    *,
    status: int = 200,
    form: forms.RefillForm | None = None,
    automatic_form: Any = None,
) -> HttpResponse:
    """The Purchase refill page: buy now, and the Automatic refills section."""
    priced = selectors.refill_units()
    choices = [(u.code, _unit_label(u)) for u, _ in priced]
    return _manage(
        request,
        "refill.html",
        account,
        "refill",
        status=status,
        form=form or forms.RefillForm(units=choices),
        priced=[(u, u.format(10**u.decimals), price) for u, price in priced],
        **_automatic_section(account.pk, choices, automatic_form),
    )


@login_required
def account_members(request: HttpRequest, account_id: int) -> HttpResponse:
    account = _owned(request, account_id)
    form = forms.InviteForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            email = form.cleaned_data["email"]
            existing = Membership.objects.filter(account=account, user__email__iexact=email).first()
            if existing is not None:
                form.add_error("email", _("This person is already on the account."))
            else:
                try:
                    accounts.add_member(
                        account=account,
                        email=email,
                        can_view_balance=form.cleaned_data["can_view_balance"],
                        actor=_actor(request),
                    )
                except DomainError as error:
                    form.add_error("email", error.message)
                else:
                    messages.success(
                        request,
                        _("%(email)s was added to %(account)s.")
                        % {"email": email, "account": account.name},
                    )
                    return redirect("portal:members", account_id=account.pk)
    return _manage(
        request,
        "members.html",
        account,
        "members",
        status=status,
        form=form,
        members=selectors.members_of(account.pk),
    )


def _membership(account: TrainingAccount, membership_id: int) -> Membership:
    membership = selectors.members_of(account.pk).filter(pk=membership_id).first()
    if membership is None:
        raise Http404
    return membership


@login_required
@require_POST
def member_balance(request: HttpRequest, account_id: int, membership_id: int) -> HttpResponse:
    account = _owned(request, account_id)
    membership = _membership(account, membership_id)
    allow = request.POST.get("allow") == "1"
    accounts.add_member(
        account=account,
        email=membership.user.email,
        role=membership.role,
        can_view_balance=allow,
        notify=membership.notify,
        actor=_actor(request),
    )
    messages.success(
        request,
        (
            _("%(email)s may now see the balance.")
            if allow
            else _("%(email)s no longer sees the balance.")
        )
        % {"email": membership.user.email},
    )
    return redirect("portal:members", account_id=account.pk)


@login_required
@require_POST
def member_remove(request: HttpRequest, account_id: int, membership_id: int) -> HttpResponse:
    account = _owned(request, account_id)
    membership = _membership(account, membership_id)
    try:
        accounts.remove_member(membership=membership, actor=_actor(request))
        messages.success(request, _("%(email)s was removed.") % {"email": membership.user.email})
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("portal:members", account_id=account.pk)


def _code_forms(account: TrainingAccount, data: Any = None, which: str = "") -> dict[str, Any]:
    members = [(str(m.user_id), m.user.email) for m in selectors.members_of(account.pk)]
    units = _unit_choices()
    return {
        "member_form": forms.MemberCodeForm(
            data if which == "member" else None, members=members, units=units
        ),
        "pool_form": forms.PoolCodeForm(data if which == "pool" else None, units=units),
    }


@login_required
def account_codes(request: HttpRequest, account_id: int) -> HttpResponse:
    account = _owned(request, account_id)
    which = request.POST.get("which", "") if request.method == "POST" else ""
    context = _code_forms(account, request.POST, which)
    status = 200
    if which in ("member", "pool"):
        form = context[f"{which}_form"]
        status = 400
        if form.is_valid():
            unit = Unit.objects.get(code=form.cleaned_data["unit"])
            try:
                if which == "member":
                    cap_text = form.cleaned_data.get("cap") or ""
                    cap = (
                        parse_amount(cap_text, decimals=unit.decimals, field="cap")
                        if cap_text
                        else None
                    )
                    member = selectors.members_of(account.pk).get(
                        user_id=int(form.cleaned_data["member"])
                    )
                    made = codes.create_member_code(
                        account_id=account.pk,
                        unit=unit,
                        member_email=member.user.email,
                        cap=cap,
                        actor=_actor(request),
                    )
                else:
                    made = codes.create_pool_code(
                        account_id=account.pk,
                        unit=unit,
                        label=form.cleaned_data.get("label") or "",
                        actor=_actor(request),
                    )
            except DomainError as error:
                form.add_error(
                    "cap" if error.details.get("field") == "cap" else None, error.message
                )
                status = _error_status(error)
            else:
                context["new_code"] = made.code_text
                status = 201
    return _manage(
        request,
        "codes.html",
        account,
        "codes",
        status=status,
        codes=selectors.account_codes(account.pk),
        **context,
    )


def _account_code(request: HttpRequest, account: TrainingAccount, code_id: int):  # type: ignore[no-untyped-def]
    code = selectors.account_codes(account.pk).filter(pk=code_id).first()
    if code is None or not can_see_code(request.user, code):
        raise Http404
    return code


@login_required
@require_GET
def code_reveal(request: HttpRequest, account_id: int, code_id: int) -> HttpResponse:
    account = _owned(request, account_id)
    code = _account_code(request, account, code_id)
    return render(
        request, "portal/partials/code_text.html", {"text": reveal_code(code), "code": code}
    )


@login_required
@require_POST
def code_rotate(request: HttpRequest, account_id: int, code_id: int) -> HttpResponse:
    account = _owned(request, account_id)
    code = _account_code(request, account, code_id)
    made = codes.rotate_code(code_id=code.pk, actor=_actor(request))
    return render(
        request,
        "portal/partials/code_text.html",
        {"text": made.code_text, "code": code, "rotated": True},
    )


@login_required
def account_book(request: HttpRequest, account_id: int) -> HttpResponse:
    account = _owned(request, account_id)
    activities = list(selectors.bookable_activities())
    chosen = next(
        (
            a
            for a in activities
            if str(a.pk) == (request.POST.get("activity") or request.GET.get("activity"))
        ),
        None,
    )
    members = [
        (str(m.pk), f"{m.user.display_name} <{m.user.email}>")
        for m in selectors.members_of(account.pk)
    ]
    form = forms.TeamBookingForm(
        request.POST if request.method == "POST" else None,
        activities=[(str(a.pk), a.title) for a in activities],
        units=_unit_choices(),
        members=members,
    )
    results, status = None, 200
    if request.method == "POST" and chosen is not None:
        status = 400
        if form.is_valid():
            try:
                results = portal.book_for_team(
                    account_id=account.pk,
                    activity_id=chosen.pk,
                    session_id=form.cleaned_data.get("session"),
                    member_ids=[int(m) for m in form.cleaned_data["members"]],
                    unit=Unit.objects.get(code=form.cleaned_data["unit"]),
                    actor=_actor(request),
                )
                status = 200
            except DomainError as error:
                form.add_error(None, error.message)
                status = _error_status(error)
    return _manage(
        request,
        "book.html",
        account,
        "book",
        status=status,
        form=form,
        activities=activities,
        chosen=chosen,
        results=results,
        sessions=selectors.sessions_of(chosen.pk) if chosen and chosen.is_dated else [],
    )


def _automatic_section(
    account_id: int, units: list[tuple[str, str]], form: Any = None
) -> dict[str, Any]:
    """What the refill page shows in its Automatic refills section."""
    return {
        "automatic_rules": automatic.summaries(account_id),
        "automatic_form": form or forms.AutomaticRefillForm(units=units, prefix="auto"),
    }
