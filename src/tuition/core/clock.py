"""The one clock the product reads, so tests can move time (time-machine patches it)."""

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    return timezone.now()
