"""Order numbers, and the receipts and invoices numbered without gaps per year (SPEC 17)."""

import secrets
from datetime import datetime

from django.db import connection

from tuition.codes import text

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
    table = DocumentCounter._meta.db_table
    sql = f"UPDATE {table} SET last = last + 1 WHERE kind = %s AND year = %s RETURNING last"
    with connection.cursor() as cursor:
        cursor.execute(sql, [kind, year])
        row = cursor.fetchone()
        if row is None:  # the first number of the year
            DocumentCounter.objects.bulk_create(
                [DocumentCounter(kind=kind, year=year, last=0)], ignore_conflicts=True
            )
            cursor.execute(sql, [kind, year])
            row = cursor.fetchone()
    return row[0]


_PREFIX = {Invoice: "INV", Receipt: "R"}


def issue_document(model: type[Invoice] | type[Receipt], order: Order, at: datetime):  # type: ignore[no-untyped-def]
    kind = "invoice" if model is Invoice else "receipt"
    sequence = next_number(kind, at.year)
    return model.objects.create(
        order=order,
        year=at.year,
        sequence=sequence,
        number=f"{_PREFIX[model]}-{at.year}-{sequence:06d}",
        issued_at=at,
        amount=order.charged,
        unit=order.unit,
        list_price=order.list_price,
    )
