"""Helpers for the notification tests: run queued tasks in-process, mail and webhook receivers."""

import pytest
from django_tasks_db.models import DBTaskResult


def run_queued_tasks(*, limit: int = 1000) -> int:
    """Run every task that is due, as the worker would (in this process); returns how many."""
    ran = 0
    while ran < limit:
        row = DBTaskResult.objects.ready().order_by("enqueued_at").first()
        if row is None:
            return ran
        row.claim("test")
        result = row.task_result
        row.task.call(*result.args, **result.kwargs)
        row.set_successful(None)
        ran += 1
    return ran


@pytest.fixture
def drain():
    return run_queued_tasks


class Receiver:
    """A real SMTP server on loopback that keeps what it accepts (optionally refusing first)."""

    def __init__(self) -> None:
        self.messages: list = []
        self.refuse_next = 0
        self.refused = 0

    async def handle_DATA(self, server, session, envelope):
        import email
        import email.policy

        if self.refuse_next > 0:
            self.refuse_next -= 1
            self.refused += 1
            return "451 4.3.0 Try again later"
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 OK"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_receiver(settings):
    from aiosmtpd.controller import Controller

    receiver = Receiver()
    port = free_port()
    controller = Controller(receiver, hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
        }
    }
    receiver.port = port
    yield receiver
    controller.stop()
