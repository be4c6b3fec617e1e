"""Seats of dated sessions: taken and freed with guarded updates under the session's row lock."""

from datetime import datetime

from django.db.models import F

from tuition.catalog.models import Session
from tuition.core.errors import NotFoundError

from .errors import (
    SessionFullError,
)
from .pricing import check_bookable


def take_seat(session_id: int, at: datetime) -> None:
    """Book one seat with a guarded update (the row lock is held until commit)."""
    taken = Session.objects.filter(
        pk=session_id, is_cancelled=False, starts_at__gt=at, booked__lt=F("capacity")
    ).update(booked=F("booked") + 1)
    if taken != 1:
        session = Session.objects.get(pk=session_id)
        if session.is_cancelled:
            raise NotFoundError("No such session.", details={"field": "session"})
        check_bookable(session, at)
        raise SessionFullError()


def free_seat(session_id: int) -> None:
    Session.objects.filter(pk=session_id, booked__gt=0).update(booked=F("booked") - 1)
