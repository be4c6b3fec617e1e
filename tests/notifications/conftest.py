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
