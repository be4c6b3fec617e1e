"""Seats of dated sessions: taken and freed with guarded updates under the session's row lock."""

from datetime import datetime
from typing import Any

from django.db import connections
from django.db.models import F

from tuition.catalog.models import Session
from tuition.core import round_trips
from tuition.core.errors import NotFoundError

from .errors import (
    SessionFullError,
)
from .pricing import check_bookable


def take_seat(session_id: int, at: datetime) -> None:
    """Book one seat with a guarded update (the row lock is held until commit). Inside
    `round_trips.one_round_trip` it is sent with the batch, and checked when the batch is back.

    Raises:
        SessionFullError, SessionStartedError, NotFoundError (a cancelled session)."""

    def refuse_unless_taken(cursor: Any) -> None:
        if cursor.rowcount == 1:
            return
        session = Session.objects.get(pk=session_id)
        if session.is_cancelled:
            raise NotFoundError("No such session.", details={"field": "session"})
        check_bookable(session, at)
        raise SessionFullError()

    connection = connections["default"]
    moment = connection.ops.adapt_datetimefield_value(at)
    round_trips.execute(_TAKE_SEAT, [session_id, moment], then=refuse_unless_taken)


# Every checkout of a dated session makes this update: one fixed statement.
_TAKE_SEAT = (
    f"UPDATE {Session._meta.db_table} SET booked = booked + 1"
    " WHERE id = %s AND NOT is_cancelled AND starts_at > %s AND booked < capacity"
)


def free_seat(session_id: int) -> None:
    Session.objects.filter(pk=session_id, booked__gt=0).update(booked=F("booked") - 1)
