"""Heartbeats of the long-running processes (the only thing this app writes)."""

import os
import socket

from django.db import transaction

from tuition.core import clock

from .models import Heartbeat


def process_name() -> str:
    return f"{socket.gethostname()[:100]}:{os.getpid()}"


def beat(*, role: str, name: str | None = None) -> None:
    """Record that this process is alive now (one short autocommit upsert)."""
    now = clock.now()
    name = name or process_name()
    with transaction.atomic():
        updated = Heartbeat.objects.filter(name=name).update(beat_at=now, role=role)
        if not updated:
            Heartbeat.objects.create(name=name, role=role, started_at=now, beat_at=now)


def forget(*, name: str | None = None) -> None:
    """A process stopping cleanly removes its heartbeat, so readiness sees it at once."""
    Heartbeat.objects.filter(name=name or process_name()).delete()
