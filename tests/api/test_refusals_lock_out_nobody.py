"""SPEC rules 27 and 28: refusals of a valid code are never guesses, so no number of them locks
anyone out; and each refusal is its Idempotency-Key's first answer."""

import pytest

from tests.factories import AccountFactory, TokenUnitFactory, issue, make_activity, usd
from tuition.checkout.models import Order
from tuition.codes import services as codes
from tuition.codes.models import AttemptCounter
from tuition.ledger.models import Transfer

from .conftest import error_code

pytestmark = pytest.mark.django_db


def _body(email: str, activity, code: str) -> dict:
    return {
        "learner": {"email": email},
        "item": {"activity": str(activity.pk)},
        "payment": {"method": "code", "code": code},
    }


def test_fifty_refusals_lock_out_nobody_and_replay_their_first_answers(api):
    # given an account with 100.00 and its pool code, a course it cannot cover and one it can
    account = AccountFactory()
    issue(account, 10000)
    code = codes.create_pool_code(account_id=account.pk, unit=usd(), actor="test").code_text
    too_dear, affordable = make_activity(price=50000), make_activity(price=4000)

    # when one learner is refused fifty times, each request with its own key
    refusals = {}
    for n in range(50):
        response = api.post("checkout", _body("ana@acme.test", too_dear, code), key=f"R-{n}")
        assert response.status_code == 422 and error_code(response) == "insufficient_balance"
        refusals[f"R-{n}"] = response.content

    # then another learner checks out with the account's code at once
    other = api.post("checkout", _body("ben@acme.test", affordable, code))
    assert other.status_code == 201, other.json()
    # and so does the refused learner, who was never locked out
    own = api.post("checkout", _body("ana@acme.test", affordable, code))
    assert own.status_code == 201, own.json()
    assert not AttemptCounter.objects.filter(failures__gt=0).exists()

    # and every refusal, replayed with its key, returns its first answer, charging nothing more
    for key, first in refusals.items():
        replay = api.post("checkout", _body("ana@acme.test", too_dear, code), key=key)
        assert replay.status_code == 422 and replay.content == first
        assert replay["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 2
    assert Transfer.objects.filter(kind="redeem").count() == 2


@pytest.mark.parametrize("refusal", ["not_in_scope", "not_priced_in_unit", "not_eligible"])
def test_refusals_of_a_valid_code_are_not_counted_as_guesses(api, refusal):
    # given a valid code that cannot pay for this course, for this reason
    account = AccountFactory(redeemer_policy="members" if refusal == "not_eligible" else "anyone")
    course = make_activity(price=1000)
    other = make_activity(price=1000)
    scope = {"scope_kind": "activity", "scope_all": False, "scope_items": [other.pk]}
    lot_fields = scope if refusal == "not_in_scope" else {}
    unit = usd()
    if refusal == "not_priced_in_unit":
        unit = TokenUnitFactory()
    issue(account, 10000, unit=unit, **lot_fields)
    code = codes.create_pool_code(account_id=account.pk, unit=unit, actor="test").code_text
    # when it is entered far more often than the learner's limit of failed look-ups
    for _ in range(15):
        response = api.post("checkout", _body("ana@acme.test", course, code))
        assert error_code(response) == refusal
    # then nothing was counted against anybody
    assert not AttemptCounter.objects.filter(failures__gt=0).exists()
