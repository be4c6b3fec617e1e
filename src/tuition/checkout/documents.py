"""Order numbers, and the receipts and invoices numbered without gaps per year (SPEC 17)."""

import secrets
from datetime import datetime

from django.db import IntegrityError, connection
from django.db.models import Q

from tuition.codes import text
from tuition.core.reused_queries import ReusedQuery, insert
from tuition.core.round_trips import one_round_trip
from tuition.core.transactions import use_case

from .models import (
    DocumentCounter,
    Invoice,
    Order,
    Receipt,
)


def order_number(at: datetime) -> str:
    # Order numbers only need to be unique and unguessable; receipts and invoices carry the
    # gap-free sequences, so orders do not queue on a counter.
    return f"{at.year}-{''.join(secrets.choice(text.ALPHABET) for _ in range(10))}"


def next_number(kind: str, year: int) -> int:
    """The next number of a gap-free yearly sequence. The UPDATE holds the counter's row lock
    until commit, so a rolled-back transaction gives its number back."""
    return next_numbers([kind], year)[kind]


def next_numbers(kinds: list[str], year: int) -> dict[str, int]:
    """The next numbers of several gap-free yearly sequences, taken in one statement that
    locks their counters in the order of their kinds (so two of them never deadlock) and holds
    the locks until commit."""
    table = DocumentCounter._meta.db_table
    taken: dict[str, int] = {}
    with connection.cursor() as cursor:
        for attempt in range(2):
            missing = sorted(set(kinds) - set(taken))
            in_kinds = ", ".join(["%s"] * len(missing))
            if connection.features.has_select_for_update:
                sql = (
                    f"UPDATE {table} AS c SET last = c.last + 1 FROM (SELECT id FROM {table} "
                    f"WHERE year = %s AND kind IN ({in_kinds}) ORDER BY kind FOR UPDATE) AS l "
                    "WHERE c.id = l.id RETURNING c.kind, c.last"
                )
            else:  # SQLite: one writer at a time
                sql = (
                    f"UPDATE {table} SET last = last + 1 WHERE year = %s AND kind IN ({in_kinds}) "
                    "RETURNING kind, last"
                )
            cursor.execute(sql, [year, *missing])
            taken.update(cursor.fetchall())
            if len(taken) == len(set(kinds)) or attempt:
                break
            # the first numbers of the year: add the counters nobody added yet, then take those
            DocumentCounter.objects.bulk_create(
                [DocumentCounter(kind=k, year=year, last=0) for k in kinds if k not in taken],
                ignore_conflicts=True,
            )
    return taken


_PREFIX = {Invoice: "INV", Receipt: "R"}


def _document(model: type[Invoice] | type[Receipt], order: Order, sequence: int, at: datetime):  # type: ignore[no-untyped-def]
    return model(
        order=order,
        year=at.year,
        sequence=sequence,
        number=f"{_PREFIX[model]}-{at.year}-{sequence:06d}",
        issued_at=at,
        amount=order.charged,
        unit=order.unit,
        list_price=order.list_price,
    )


def issue_document(model: type[Invoice] | type[Receipt], order: Order, at: datetime):  # type: ignore[no-untyped-def]
    kind = "invoice" if model is Invoice else "receipt"
    sequence = next_number(kind, at.year)
    return insert(_document(model, order, sequence, at))


# Checkout's documents are numbered right after its transaction commits, in a short one of
# their own: the yearly counters are one row for every checkout of every account, and holding
# one inside the wallet's transaction would queue every account's checkouts behind each other.


# Every checkout's numbering reads its order this way, locked (the sweep may number it too).
# No key update: a checkout's own numbering (`number_new_checkout`) does not read the order,
# but its invoice's foreign key takes a key-share lock on it when it commits; a full update
# lock here would make the two wait on each other (the counters one way, the order the other).
_ORDER_TO_NUMBER = ReusedQuery(
    lambda *, pk: (
        Order.objects.select_for_update(of=("self",), no_key=True)
        .select_related("unit", "invoice", "receipt")
        .filter(pk=pk)
    ),
    values=("pk",),
)


def number_checkout_documents(*, order_id: int) -> tuple[Invoice | None, Receipt | None]:
    """Issue the invoice of a checkout's order, and its receipt when it is paid, unless they
    exist (the sweep and the checkout itself may both try). Returns them. A building block:
    it runs in the caller's transaction, which must be a short one of its own.

    Raises:
        RuntimeError: called outside a transaction.
        Order.DoesNotExist: no such order (a programming error).
    """
    if not connection.in_atomic_block:
        raise RuntimeError("Number documents inside the transaction that commits them.")
    found = _ORDER_TO_NUMBER.fetch(pk=order_id)
    if not found:
        raise Order.DoesNotExist(f"No order {order_id}.")
    order = found[0]
    invoice = getattr(order, "invoice", None)
    receipt = getattr(order, "receipt", None)
    at = order.created_at
    if invoice is None:
        invoice = issue_document(Invoice, order, at)
    if receipt is None and order.status == Order.Status.PAID:
        receipt = issue_document(Receipt, order, at)
    return invoice, receipt


def number_new_checkout(order: Order) -> tuple[Invoice, Receipt | None]:
    """Issue the invoice of an order its checkout has just committed, and its receipt when it
    is paid: one statement takes both numbers, one insert writes each. A building block, like
    `number_checkout_documents`.

    Raises:
        IntegrityError: the sweep numbered the order first (roll back: the numbers taken here
            go back; `number_checkout_documents` then finds the sweep's documents).
    """
    paid = order.status == Order.Status.PAID
    numbers = next_numbers(["invoice", "receipt"] if paid else ["invoice"], order.created_at.year)
    # Every checkout of every account queues on the counters until this commits: the
    # documents go in one round trip.
    with one_round_trip():
        invoice = insert(_document(Invoice, order, numbers["invoice"], order.created_at))
        receipt = (
            insert(_document(Receipt, order, numbers["receipt"], order.created_at))
            if paid
            else None
        )
    return invoice, receipt


def orders_without_documents(*, before: datetime) -> list[int]:
    """Checkout orders placed before `before` still waiting for their invoice, or paid and
    waiting for their receipt: their checkout stopped between its commit and the numbering."""
    invoiced = [Order.Status.PENDING_PAYMENT, Order.Status.PAID, Order.Status.CANCELLED]
    invoiced.append(Order.Status.REFUNDED)
    missing = Q(invoice__isnull=True, status__in=invoiced) | Q(
        status=Order.Status.PAID, receipt__isnull=True
    )
    return list(
        Order.objects.filter(missing, created_at__lt=before)
        .order_by("pk")
        .values_list("pk", flat=True)[:1000]
    )


def number_missing_documents(*, before: datetime) -> int:
    """The sweep: number what `orders_without_documents` finds; returns how many orders."""
    orders = orders_without_documents(before=before)
    for order_id in orders:
        try:
            _number_left_over(order_id=order_id)
        except IntegrityError:  # its checkout numbered it meanwhile (`number_new_checkout`)
            continue
    return len(orders)


@use_case
def _number_left_over(*, order_id: int) -> None:
    number_checkout_documents(order_id=order_id)
