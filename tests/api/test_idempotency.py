"""SPEC rule 28: a retry returns the first answer; the same key with another body is refused;
concurrent requests with one key execute once."""

import json
from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client

from tests.concurrency.parallel import run_in_parallel
from tests.factories import AccountFactory, issue, make_activity, make_credit
from tuition.core import clock, idempotency
from tuition.core.models import IdempotencyRecord
from tuition.ledger import services as ledger
from tuition.ledger.models import Lot, Transfer

from .conftest import Api, error_code

pytestmark = pytest.mark.django_db


def _adjustments(lot: Lot) -> int:
    return Transfer.objects.filter(kind=Transfer.Kind.ADJUST, entries__lot=lot).count()


def test_a_replay_returns_the_first_answer_unchanged(api):
    # given
    lot = issue(AccountFactory(), 5000)
    body = {"amount": "10.00", "reason": "goodwill"}
    first = api.post(f"credits/{lot.pk}/adjustments", body, key="K-1")
    # when
    second = api.post(f"credits/{lot.pk}/adjustments", body, key="K-1")
    # then
    assert first.status_code == second.status_code == 201
    assert second.content == first.content
    assert second["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    lot.refresh_from_db()
    assert lot.remaining == 6000 and _adjustments(lot) == 1
    record = IdempotencyRecord.objects.get()
    assert record.status == "completed" and record.response_status == 201


def test_key_order_and_whitespace_do_not_change_the_fingerprint(api):
    lot = issue(AccountFactory(), 5000)
    path = f"credits/{lot.pk}/adjustments"
    api.call("POST", path, raw='{"amount": "1.00", "reason": "x"}', idempotency_key="K")
    response = api.call("POST", path, raw='{ "reason":"x","amount":"1.00" }', idempotency_key="K")
    assert response.status_code == 201 and response["Idempotent-Replayed"] == "true"


@pytest.mark.parametrize(
    "other",
    [
        {"amount": "100.00", "reason": "goodwill"},
        {"amount": "10.00", "reason": "other"},
    ],
)
def test_the_same_key_with_another_body_is_refused(api, other):
    lot = issue(AccountFactory(), 5000)
    api.post(f"credits/{lot.pk}/adjustments", {"amount": "10.00", "reason": "goodwill"}, key="K")
    response = api.post(f"credits/{lot.pk}/adjustments", other, key="K")
    assert response.status_code == 422 and error_code(response) == "idempotency_key_reused"
    lot.refresh_from_db()
    assert lot.remaining == 6000 and _adjustments(lot) == 1


def test_the_same_key_on_another_path_is_refused(api):
    lot, other = issue(AccountFactory(), 5000), issue(AccountFactory(), 5000)
    body = {"amount": "10.00", "reason": "x"}
    api.post(f"credits/{lot.pk}/adjustments", body, key="K")
    response = api.post(f"credits/{other.pk}/adjustments", body, key="K")
    assert error_code(response) == "idempotency_key_reused"
    other.refresh_from_db()
    assert other.remaining == 5000


def test_duplicate_json_keys_never_reach_the_fingerprint(api):
    lot = issue(AccountFactory(), 5000)
    path = f"credits/{lot.pk}/adjustments"
    response = api.call(
        "POST",
        path,
        raw='{"amount": "1.00", "amount": "1000.00", "reason": "x"}',
        idempotency_key="K",
    )
    assert response.status_code == 400 and error_code(response) == "validation_error"
    assert not IdempotencyRecord.objects.exists()


def test_a_missing_or_bad_key_is_a_validation_error(api):
    lot = issue(AccountFactory(), 5000)
    body = {"amount": "10.00", "reason": "x"}
    for key in [None, "", "x" * 256, "clé"]:
        response = api.post(f"credits/{lot.pk}/adjustments", body, key=key)
        assert response.status_code == 400 and error_code(response) == "validation_error"
    lot.refresh_from_db()
    assert lot.remaining == 5000 and not IdempotencyRecord.objects.exists()
    assert api.post(f"credits/{lot.pk}/adjustments", body, key="x" * 255).status_code == 201


def test_a_malformed_request_stores_nothing_and_the_corrected_one_may_reuse_the_key(api):
    lot = issue(AccountFactory(), 5000)
    bad = api.post(f"credits/{lot.pk}/adjustments", {"amount": "-90.00", "reason": "x"}, key="K")
    assert bad.status_code == 400
    assert not IdempotencyRecord.objects.exists()
    good = api.post(f"credits/{lot.pk}/adjustments", {"amount": "-10.00", "reason": "x"}, key="K")
    assert good.status_code == 201
    lot.refresh_from_db()
    assert lot.remaining == 4000


def test_a_refusal_is_the_first_answer_and_its_replay_returns_it(api):
    # given a checkout the balance does not cover
    activity = make_activity(price=30000)
    credit = make_credit(AccountFactory(), 10000)
    code = credit.code_text
    body = {
        "learner": {"email": "ana@acme.test"},
        "item": {"activity": str(activity.pk)},
        "payment": {"method": "code", "code": code},
    }
    refused = api.post("checkout", body, key="K")
    assert refused.status_code == 422 and error_code(refused) == "insufficient_balance"
    assert "Idempotent-Replayed" not in refused
    # when the balance grows and the request is retried with its key
    ledger.adjust_lot(lot_id=credit.lot.pk, delta=50000, reason="top-up", actor="test")
    again = api.post("checkout", body, key="K")
    # then the first answer comes back, marked replayed, and nothing was charged
    assert again.status_code == 422 and again.content == refused.content
    assert again["Idempotent-Replayed"] == "true"
    record = IdempotencyRecord.objects.get()
    assert record.status == "completed" and record.response_status == 422
    assert not Transfer.objects.filter(kind="redeem").exists()
    # and the same key with another body is refused as reused
    other = api.post("checkout", {**body, "learner": {"email": "ben@acme.test"}}, key="K")
    assert other.status_code == 422 and error_code(other) == "idempotency_key_reused"


def test_a_come_back_later_answer_is_not_stored(api, settings):
    # given a learner locked out of code entry (429 is "retry later", not an answer)
    settings.TUITION = {**settings.TUITION, "CODE_ATTEMPT_LIMITS": {"learner": 1}}
    body = {
        "learner": {"email": "guesser@example.test"},
        "item": {"activity": str(make_activity().pk)},
        "payment": {"method": "code", "code": "NO-SUCH-CODE"},
    }
    first = api.post("checkout", body, key="G1")
    assert error_code(first) == "code_not_found", first.json()
    locked = api.post("checkout", body, key="G2")
    assert locked.status_code == 429 and error_code(locked) == "too_many_attempts"
    # then the key stays free: only the first refusal is stored
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["G1"]


def test_a_replay_after_the_state_changed_still_returns_the_first_answer(api):
    # the lookup precedes the business rules: a drained credit does not turn a replay into 400
    lot = issue(AccountFactory(), 5000)
    body = {"amount": "-50.00", "reason": "drain"}
    first = api.post(f"credits/{lot.pk}/adjustments", body, key="K")
    replay = api.post(f"credits/{lot.pk}/adjustments", body, key="K")
    assert replay.status_code == 201 and replay.content == first.content
    assert error_code(api.post(f"credits/{lot.pk}/adjustments", body, key="K2")) == (
        "validation_error"
    )


def test_keys_are_scoped_per_caller(make_key):
    lot = issue(AccountFactory(), 5000)
    body = {"amount": "10.00", "reason": "x"}
    first = Api(Client(), make_key("admin")).post(f"credits/{lot.pk}/adjustments", body, key="K")
    second = Api(Client(), make_key("admin")).post(f"credits/{lot.pk}/adjustments", body, key="K")
    assert first.status_code == second.status_code == 201
    assert "Idempotent-Replayed" not in second
    assert json.loads(first.content)["id"] != json.loads(second.content)["id"]
    lot.refresh_from_db()
    assert lot.remaining == 7000


def test_a_request_that_died_before_commit_leaves_no_claim_and_its_retry_runs(api):
    # given a request whose process fails after the work, before its transaction commits
    lot = issue(AccountFactory(), 5000)
    body = {"amount": "10.00", "reason": "x"}
    with (
        mock.patch.object(idempotency, "store", side_effect=RuntimeError("the worker died")),
        pytest.raises(RuntimeError),
    ):
        api.post(f"credits/{lot.pk}/adjustments", body, key="K")
    lot.refresh_from_db()
    assert lot.remaining == 5000 and not IdempotencyRecord.objects.exists()
    # when it is retried with its key
    response = api.post(f"credits/{lot.pk}/adjustments", body, key="K")
    # then it runs once, at once (nothing to wait for or take over)
    assert response.status_code == 201 and "Idempotent-Replayed" not in response
    lot.refresh_from_db()
    assert lot.remaining == 6000 and _adjustments(lot) == 1
    assert IdempotencyRecord.objects.get().response_status == 201


def test_prune_keeps_keys_for_at_least_a_day(api):
    lot = issue(AccountFactory(), 5000)
    body = {"amount": "10.00", "reason": "x"}
    api.post(f"credits/{lot.pk}/adjustments", body, key="K")
    with time_machine.travel(clock.now() + timedelta(hours=23)):
        call_command("prune_idempotency_keys")
    assert IdempotencyRecord.objects.count() == 1
    with time_machine.travel(clock.now() + timedelta(hours=25)):
        call_command("prune_idempotency_keys")
        assert not IdempotencyRecord.objects.exists()
        # beyond retention the key is new again
        assert "Idempotent-Replayed" not in api.post(f"credits/{lot.pk}/adjustments", body, key="K")


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_execute_once(make_key):
    # given
    plaintext = make_key("admin")
    lot = issue(AccountFactory(), 5000)
    body = {"amount": "10.00", "reason": "parallel"}

    def request(_: int) -> str:
        response = Api(Client(), plaintext).post(f"credits/{lot.pk}/adjustments", body, key="P")
        if response.status_code == 201:
            return "replayed" if response.has_header("Idempotent-Replayed") else "created"
        return json.loads(response.content)["error"]["code"]

    # when
    outcomes = run_in_parallel(request, 8)
    # then
    assert outcomes.count("created") == 1, outcomes
    assert set(outcomes) <= {"created", "replayed"}, outcomes
    lot.refresh_from_db()
    assert lot.remaining == 6000 and _adjustments(lot) == 1
    assert IdempotencyRecord.objects.get().status == "completed"
