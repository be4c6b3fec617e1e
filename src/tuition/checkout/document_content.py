"""Receipts, invoices and credit notes as a finance department reads them: the provider's legal
details, numbered and dated, what was bought, and whether it is paid (with how) or due.

`document_for` reads an order's document into a `Document` (plain text fields in the
requested language); the HTML page and `render_pdf` both show that one value, so the web page
and the PDF cannot disagree. Read-only: documents are numbered by the checkout services.

A credit note exists for a refunded order (the refund is the reversal of the order's transfer,
SPEC rule 19); it takes the number of the invoice it credits with the prefix CN, so it is
numbered without a counter of its own and never twice.
"""

from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from tuition.core import l10n

from .models import CreditNote, Order

KINDS = ("receipt", "invoice", "credit-note")
# A partial refund's credit note: "credit-note-1", "credit-note-2", ... (its sequence).
PARTIAL_PREFIX = "credit-note-"


@dataclass(frozen=True)
class Seller:
    name: str
    address: tuple[str, ...]
    tax_id: str
    logo: str  # a file path, or "" for none
    footer: str


@dataclass(frozen=True)
class Row:
    label: str
    value: str
    strong: bool = False


@dataclass(frozen=True)
class Document:
    kind: str
    title: str
    number: str
    issued: str
    seller: Seller
    billed_to: tuple[str, ...]
    details: tuple[Row, ...]
    amounts: tuple[Row, ...]
    # "paid", "due", "credited" or "cancelled": what the reader must do about it.
    state: str
    state_label: str
    state_detail: str
    language: str
    notes: tuple[str, ...] = field(default=())
    # Captions in the document's language, for renderers that have no gettext of their own.
    billed_to_label: str = "Billed to"
    tax_id_label: str = "Tax ID"

    @property
    def filename(self) -> str:
        return f"{self.number}.pdf"


def seller() -> Seller:
    """The provider's legal details (settings, from the TUITION_LEGAL_* environment)."""
    legal = settings.TUITION_LEGAL
    address = tuple(line.strip() for line in str(legal["ADDRESS"]).replace(";", "\n").splitlines())
    return Seller(
        name=legal["NAME"] or settings.TUITION["PROVIDER_NAME"],
        address=tuple(line for line in address if line),
        tax_id=legal["TAX_ID"],
        logo=legal["LOGO"] if legal["LOGO"] and Path(legal["LOGO"]).is_file() else "",
        footer=legal["FOOTER"],
    )


def available_kinds(order: Order) -> list[str]:
    """The documents an order has: its invoice, its receipt once paid, a credit note once
    refunded."""
    kinds = []
    if _invoice(order) is not None:
        kinds.append("invoice")
    if _receipt(order) is not None:
        kinds.append("receipt")
    if order.status == Order.Status.REFUNDED and _invoice(order) is not None:
        kinds.append("credit-note")
    kinds.extend(f"{PARTIAL_PREFIX}{note.sequence}" for note in _partial_notes(order))
    return kinds


def document_for(order: Order, kind: str, *, language: str | None = None) -> Document | None:
    """The order's document of that kind in `language` (the active one when None), or None
    when the order has no such document."""
    if kind not in available_kinds(order):
        return None
    language = language or translation.get_language() or settings.LANGUAGE_CODE
    with translation.override(language):
        doc: Document
        if kind.startswith(PARTIAL_PREFIX):
            note = next(n for n in _partial_notes(order) if kind == f"{PARTIAL_PREFIX}{n.sequence}")
            doc = _partial_credit_note(order, note, language)
        elif kind == "credit-note":
            doc = _credit_note(order, language)
        else:
            doc = _sale_document(order, kind, language)
        return replace(doc, billed_to_label=_("Billed to"), tax_id_label=_("Tax ID"))


# --- the parts --------------------------------------------------------------------------------


def _invoice(order: Order):  # type: ignore[no-untyped-def]
    return getattr(order, "invoice", None)


def _receipt(order: Order):  # type: ignore[no-untyped-def]
    return getattr(order, "receipt", None)


def _money(order: Order, minor: int, language: str, *, usd: bool = False) -> str:
    if usd:
        return l10n.money(minor, unit_code="USD", decimals=2, language=language)
    return l10n.money(
        minor, unit_code=order.unit.code, decimals=order.unit.decimals, language=language
    )


def _paid_with(order: Order) -> str:
    """The method that paid, with the code's last symbols where a code paid."""
    method = order.get_method_display()
    if order.code_hint:
        return _("%(method)s, code ending %(hint)s") % {"method": method, "hint": order.code_hint}
    return str(method)


def _billed_to(order: Order) -> tuple[str, ...]:
    learner = order.learner
    lines = [learner.display_name]
    if learner.display_name != learner.email:
        lines.append(learner.email)
    if order.account_id is not None:
        lines.append(order.account.name)  # type: ignore[union-attr]
    return tuple(lines)


def _details(order: Order, language: str) -> list[Row]:
    rows = [Row(_("Order"), order.number), Row(_("Item"), order.title)]
    if order.session_id is not None:
        session = order.session
        rows.append(
            Row(
                _("Session"),
                l10n.moment(session.starts_at, zone=session.timezone, language=language),  # type: ignore[union-attr]
            )
        )
    return rows


def _was_paid(order: Order) -> bool:
    return order.paid_at is not None or order.status in (
        Order.Status.PAID,
        Order.Status.REFUNDED,
    )


def _sale_document(order: Order, kind: str, language: str) -> Document:
    doc = _receipt(order) if kind == "receipt" else _invoice(order)
    amounts = [Row(_("List price"), _money(order, order.list_price, language, usd=True))]
    if order.unit.code != "USD" or order.price != order.list_price:
        amounts.append(Row(_("Price"), _money(order, order.price, language)))
    if order.discount:
        amounts.append(Row(_("Discount"), "\u2212" + _money(order, order.discount, language)))
    total = _money(order, order.charged, language)
    details = _details(order, language)
    if _was_paid(order):
        amounts.append(Row(_("Total paid"), total, strong=True))
        paid_at = order.paid_at or order.created_at
        state, label = "paid", pgettext("document state", "Paid")
        detail = _("Paid on %(date)s by %(method)s.") % {
            "date": l10n.day(paid_at, language=language),
            "method": _paid_with(order),
        }
        if order.payment_reference:
            details.append(Row(_("Payment reference"), order.payment_reference))
    elif order.status == Order.Status.PENDING_PAYMENT:
        amounts.append(Row(_("Total"), total))
        amounts.append(Row(_("Amount due"), total, strong=True))
        state, label = "due", pgettext("document state", "Due")
        detail = _("Please pay %(amount)s, quoting invoice %(number)s.") % {
            "amount": total,
            "number": doc.number,  # type: ignore[union-attr]
        }
    else:
        amounts.append(Row(_("Total"), total))
        state, label = "cancelled", pgettext("document state", "Cancelled")
        detail = _("The order was cancelled before it was paid; nothing is due.")
    notes = [
        _("Partly refunded: %(amount)s, see credit note %(number)s.")
        % {"amount": _money(order, note.amount, language), "number": note.number}
        for note in (_partial_notes(order) if kind == "invoice" else ())
    ]
    if kind == "invoice" and order.status == Order.Status.REFUNDED:
        notes.append(
            _("Refunded in full: see credit note %(number)s.")
            % {"number": _credit_note_number(order)}
        )
    return Document(
        kind=kind,
        title=_("Receipt") if kind == "receipt" else _("Invoice"),
        number=doc.number,  # type: ignore[union-attr]
        issued=l10n.day(doc.issued_at, language=language),  # type: ignore[union-attr]
        seller=seller(),
        billed_to=_billed_to(order),
        details=tuple(details),
        amounts=tuple(amounts),
        state=state,
        state_label=str(label),
        state_detail=detail,
        language=language,
        notes=tuple(notes),
    )


def _credit_note_number(order: Order) -> str:
    invoice_number = _invoice(order).number  # type: ignore[union-attr]
    return "CN-" + invoice_number.split("-", 1)[1]


def _credit_note(order: Order, language: str) -> Document:
    # After partial refunds (each with its own credit note) the cancellation credits the rest.
    credited = _money(order, order.charged - sum(n.amount for n in _partial_notes(order)), language)
    at: datetime = order.cancelled_at or order.created_at
    if order.method in (Order.Method.TRAINING_CREDIT, Order.Method.TOKENS):
        back_to = _("Returned to %(method)s with its original expiry.") % {
            "method": _paid_with(order)
        }
    else:
        back_to = _("Refunded by %(method)s.") % {"method": _paid_with(order)}
    details = [
        *_details(order, language),
        Row(_("Credits invoice"), _invoice(order).number),  # type: ignore[union-attr]
    ]
    return Document(
        kind="credit-note",
        title=_("Credit note"),
        number=_credit_note_number(order),
        issued=l10n.day(at, language=language),
        seller=seller(),
        billed_to=_billed_to(order),
        details=tuple(details),
        amounts=(
            Row(_("Originally charged"), _money(order, order.charged, language)),
            Row(_("Amount credited"), credited, strong=True),
        ),
        state="credited",
        state_label=str(pgettext("document state", "Credited")),
        state_detail=back_to,
        language=language,
    )


def _partial_notes(order: Order) -> list[CreditNote]:
    return list(order.credit_notes.all()) if order.pk else []


def _partial_credit_note(order: Order, note: CreditNote, language: str) -> Document:
    """The credit note of a partial refund: what was charged, what this note credits, what
    has been credited so far; the registration stays."""
    earlier = sum(n.amount for n in _partial_notes(order) if n.sequence <= note.sequence)
    if order.method in (Order.Method.TRAINING_CREDIT, Order.Method.TOKENS):
        back_to = _("Returned to %(method)s with its original expiry.") % {
            "method": _paid_with(order)
        }
    else:
        back_to = _("Refunded by %(method)s.") % {"method": _paid_with(order)}
    details = [*_details(order, language)]
    invoice = _invoice(order)
    if invoice is not None:
        details.append(Row(_("Credits invoice"), invoice.number))
    details.append(Row(_("Reason"), note.reason))
    return Document(
        kind=f"{PARTIAL_PREFIX}{note.sequence}",
        title=_("Credit note"),
        number=note.number,
        issued=l10n.day(note.issued_at, language=language),
        seller=seller(),
        billed_to=_billed_to(order),
        details=tuple(details),
        amounts=(
            Row(_("Originally charged"), _money(order, order.charged, language)),
            Row(_("Credited so far"), _money(order, earlier, language)),
            Row(_("Amount credited"), _money(order, note.amount, language), strong=True),
        ),
        state="credited",
        state_label=str(pgettext("document state", "Credited")),
        state_detail=back_to,
        language=language,
        notes=(_("A partial refund: the registration stays as it is."),),
    )
