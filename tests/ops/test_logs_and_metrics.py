import io
import json
import logging
import uuid

import pytest
from django.test import Client
from django_tasks_db.models import DBTaskResult

from tests.api_support import Api
from tests.factories import AccountFactory, UserFactory, make_activity, make_credit
from tuition.core import metrics
from tuition.core.observability import JsonLogFormatter, RequestIdFilter, bound_request_id
from tuition.notifications import tasks
from tuition.ops.tasks_context import on_task_finished, on_task_started

pytestmark = pytest.mark.django_db


@pytest.fixture
def log_lines():
    """Everything logged, at every level, through the production JSON formatter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLogFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines() if line]
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def _checkout(api: Api, course, code: str, key: str | None = None):  # type: ignore[no-untyped-def]
    return api.post(
        "checkout",
        {
            "learner": {"email": "ana@acme.test"},
            "item": {"activity": str(course.pk)},
            "payment": {"method": "code", "code": code},
        },
        key=key or str(uuid.uuid4()),
    )


def _value(name: str, **labels: str) -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_each_request_logs_one_json_line_with_request_id_actor_and_outcome(
    make_key, log_lines, settings
):
    # given an API key and a credit with its code
    plaintext = make_key("admin")
    api = Api(Client(), plaintext)
    course = make_activity(price=10000)
    credit = make_credit(AccountFactory(), 50000)
    # when it checks out once with a wrong code and once with the right one
    refused = _checkout(api, course, "WRONG-CODE-1234")
    paid = _checkout(api, course, credit.code_text)
    assert refused.status_code == 422 and paid.status_code == 201
    # then each request has its id in the answer and one log line with the outcome
    lines = [line for line in log_lines() if line["logger"] == "tuition.request"]
    assert [line["outcome"] for line in lines] == ["code_not_found", "ok"]
    assert [line["request_id"] for line in lines] == [refused["X-Request-ID"], paid["X-Request-ID"]]
    prefix = plaintext.partition(".")[0]
    assert {line["actor"] for line in lines} == {f"api-key:{prefix}"}
    assert lines[1] | {"time": None, "duration_ms": None, "request_id": None} == {
        "time": None,
        "level": "INFO",
        "logger": "tuition.request",
        "message": "request",
        "request_id": None,
        "method": "POST",
        "route": "api/v1/checkout",
        "status": 201,
        "outcome": "ok",
        "error_code": None,
        "actor": f"api-key:{prefix}",
        "client_ip": "127.0.0.1",
        "writes": True,
        "replayed": False,
        "duration_ms": None,
    }


def test_no_code_key_or_password_reaches_the_logs(make_key, log_lines, client):
    plaintext = make_key("admin")
    api = Api(Client(), plaintext)
    course = make_activity(price=10000)
    credit = make_credit(AccountFactory(), 50000)
    _checkout(api, course, credit.code_text.lower().replace("-", " "))
    _checkout(api, course, "GUESS-ABCD-EFGH-JKMN")
    user = UserFactory(email="lena@learner.test")
    user.set_password("correct horse battery")
    user.save()
    client.post("/accounts/login/", {"login": user.email, "password": "wrong horse battery"})
    client.post("/accounts/login/", {"login": user.email, "password": "correct horse battery"})
    # worker side too: the notification tasks the checkout enqueued
    for row in DBTaskResult.objects.all():
        on_task_started(None, row.task_result)
        on_task_finished(None, row.task_result)
    text = json.dumps(log_lines())
    secrets = [
        plaintext,
        plaintext.partition(".")[2],
        credit.code_text,
        credit.code_text.replace("-", ""),
        "GUESS-ABCD-EFGH-JKMN",
        "horse battery",
    ]
    assert len(log_lines()) > 4
    for secret in secrets:
        assert secret.lower() not in text.lower(), secret


def test_the_request_id_travels_into_the_tasks_it_enqueued(log_lines):
    # given a task enqueued while serving a request
    with bound_request_id("req-0123456789abcdef"):
        result = tasks.expire_credits.enqueue()
    row = DBTaskResult.objects.get(pk=result.id)
    assert row.args_kwargs["request_id"] == "req-0123456789abcdef"
    # when the worker runs it
    on_task_started(None, row.task_result)
    logging.getLogger("tuition.ledger").info("inside the task")
    on_task_finished(None, row.task_result)
    # then the task's log lines carry the request's id, and it is unbound afterwards
    lines = [line for line in log_lines() if line["logger"] != "django.tasks"]
    assert [(line["message"], line["request_id"]) for line in lines] == [
        ("task started", "req-0123456789abcdef"),
        ("inside the task", "req-0123456789abcdef"),
        ("task finished", "req-0123456789abcdef"),
    ]
    logging.getLogger("tuition").info("after")
    assert log_lines()[-1]["request_id"] is None


def test_a_request_id_from_a_trusted_proxy_is_kept_and_otherwise_replaced(client, settings):
    wanted = "0123456789abcdef0123456789abcdef"
    response = client.get("/health/live", headers={"X-Request-ID": wanted})
    assert response["X-Request-ID"] != wanted  # 127.0.0.1 is not a trusted proxy by default
    settings.TUITION = {**settings.TUITION, "TRUSTED_PROXIES": ["127.0.0.1"]}
    assert client.get("/health/live", headers={"X-Request-ID": wanted})["X-Request-ID"] == wanted
    bad = client.get("/health/live", headers={"X-Request-ID": "x\nforged log line"})
    assert len(bad["X-Request-ID"]) == 32


def test_metrics_are_off_without_a_token_and_need_it(client, settings):
    settings.TUITION = {**settings.TUITION, "METRICS_TOKEN": ""}
    assert client.get("/metrics").status_code == 404
    settings.TUITION = {**settings.TUITION, "METRICS_TOKEN": "s3cret-token"}
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
    ok = client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
    assert ok.status_code == 200 and ok["Content-Type"].startswith("text/plain")


def test_metrics_count_checkouts_refusals_value_and_queue(
    make_key, client, settings, django_capture_on_commit_callbacks
):
    settings.TUITION = {**settings.TUITION, "METRICS_TOKEN": "t0ken"}
    api = Api(Client(), make_key("admin"))
    course = make_activity(price=12550)
    credit = make_credit(AccountFactory(), 50000)
    before = {
        "ok": _value("tuition_checkouts_total", interface="api"),
        "refused": _value(
            "tuition_checkout_refusals_total", interface="api", code="code_not_found"
        ),
        "usd": _value("tuition_value_redeemed_total", unit="USD"),
        "requests": _value(
            "tuition_http_requests_total", method="POST", route="api/v1/checkout", status="201"
        ),
    }
    # when: one refusal, one checkout, and its replay (not a second checkout)
    with django_capture_on_commit_callbacks(execute=True):  # value counts once committed
        _checkout(api, course, "NOPE-NOPE-NOPE")
        _checkout(api, course, credit.code_text, key="same-key")
        replay = _checkout(api, course, credit.code_text, key="same-key")
    assert replay["Idempotent-Replayed"] == "true"
    # then
    assert _value("tuition_checkouts_total", interface="api") - before["ok"] == 1
    refused = _value("tuition_checkout_refusals_total", interface="api", code="code_not_found")
    assert refused - before["refused"] == 1
    assert _value("tuition_value_redeemed_total", unit="USD") - before["usd"] == 125.50
    requests = _value(
        "tuition_http_requests_total", method="POST", route="api/v1/checkout", status="201"
    )
    assert requests - before["requests"] == 2
    scrape = client.get("/metrics", headers={"Authorization": "Bearer t0ken"}).content.decode()
    ready = DBTaskResult.objects.ready().count()
    assert ready > 0  # the checkout's notification is waiting for a worker
    assert f"tuition_task_queue_ready {float(ready)}" in scrape
    assert 'tuition_deliveries{channel="webhook",state="dead"} 0.0' in scrape
    assert "tuition_http_request_duration_seconds_bucket" in scrape
    assert metrics.CHECKOUTS._name == "tuition_checkouts"


def test_page_checkouts_are_counted_and_logged_with_their_outcome(
    client, log_lines, django_capture_on_commit_callbacks
):
    # given a learner on the checkout page, and a credit
    course = make_activity(price=10000)
    credit = make_credit(AccountFactory(), 50000)
    learner = UserFactory()
    client.force_login(learner)
    url = f"/checkout/activity/{course.pk}/"
    before_ok = _value("tuition_checkouts_total", interface="page")
    before_refused = _value(
        "tuition_checkout_refusals_total", interface="page", code="code_not_found"
    )
    # when a wrong code is refused, then the right one pays
    with django_capture_on_commit_callbacks(execute=True):
        refused = client.post(url, {"method": "training_credit", "code": "NOT-A-REAL-CODE"})
        paid = client.post(url, {"method": "training_credit", "code": credit.code_text})
    assert refused.status_code == 422 and paid.status_code == 302
    # then both are counted and logged with the learner as actor
    assert _value("tuition_checkouts_total", interface="page") - before_ok == 1
    refusals = _value("tuition_checkout_refusals_total", interface="page", code="code_not_found")
    assert refusals - before_refused == 1
    lines = [x for x in log_lines() if x["logger"] == "tuition.request"]
    assert [(x["route"], x["status"], x["outcome"], x["actor"]) for x in lines] == [
        ("checkout/<str:kind>/<int:pk>/", 422, "code_not_found", f"user:{learner.pk}"),
        ("checkout/<str:kind>/<int:pk>/", 302, "ok", f"user:{learner.pk}"),
    ]
    assert credit.code_text not in json.dumps(log_lines())
