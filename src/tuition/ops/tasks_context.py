"""Carry the request id from the web request that enqueued a task into the worker running it.

When a task row is written, the current request id (if any) is stored beside the task's
arguments (`args_kwargs["request_id"]`, a key django-tasks-db does not read). When the worker
starts the task it binds that id, so every log line of the task (and of the tasks it enqueues
in turn: an outbox row fanned out into deliveries) carries the id of the original request.
"""

import logging
import time
from typing import Any

from django.db.models.signals import pre_save
from django.tasks.signals import task_finished, task_started
from django_tasks_db.models import DBTaskResult

from tuition.core.observability import bind_request_id, current_request_id, unbind_request_id

logger = logging.getLogger("tuition.tasks")

_running: dict[str, tuple[Any, float]] = {}


def stamp_request_id(sender: Any, instance: DBTaskResult, **kwargs: Any) -> None:
    request_id = current_request_id()
    if instance._state.adding and request_id and isinstance(instance.args_kwargs, dict):
        instance.args_kwargs = {**instance.args_kwargs, "request_id": request_id}


def task_request_id(task_result: Any) -> str | None:
    db_result = getattr(task_result, "db_result", None)
    args_kwargs = getattr(db_result, "args_kwargs", None) or {}
    value = args_kwargs.get("request_id") if isinstance(args_kwargs, dict) else None
    return value if isinstance(value, str) else None


def on_task_started(sender: Any, task_result: Any, **kwargs: Any) -> None:
    token = bind_request_id(task_request_id(task_result))
    _running[str(task_result.id)] = (token, time.monotonic())
    logger.info(
        "task started",
        extra={"task_id": str(task_result.id), "task": task_result.task.module_path},
    )


def on_task_finished(sender: Any, task_result: Any, **kwargs: Any) -> None:
    token, started = _running.pop(str(task_result.id), (None, time.monotonic()))
    logger.log(
        logging.WARNING if str(task_result.status).endswith("FAILED") else logging.INFO,
        "task finished",
        extra={
            "task_id": str(task_result.id),
            "task": task_result.task.module_path,
            "outcome": str(task_result.status).rsplit(".", 1)[-1].lower(),
            "duration_ms": round((time.monotonic() - started) * 1000, 1),
        },
    )
    if token is not None:
        unbind_request_id(token)


def connect() -> None:
    pre_save.connect(stamp_request_id, sender=DBTaskResult, dispatch_uid="tuition.request_id")
    task_started.connect(on_task_started, dispatch_uid="tuition.task_started")
    task_finished.connect(on_task_finished, dispatch_uid="tuition.task_finished")
