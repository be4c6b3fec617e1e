"""The automatic refills API: set, read, pause, resume, stop; owners only see their own."""

import pytest

from tests.api_support import error_code
from tests.factories import usd
from tuition.autorefills import services as autorefills
from tuition.autorefills.models import RefillFiring, RefillRule
from tuition.checkout.payments import SUCCESS_CARD

pytestmark = pytest.mark.django_db

THRESHOLD = {
    "kind": "threshold",
    "threshold": "100.00",
    "amount": "500.00",
    "provider": "sandbox",
    "card_number": SUCCESS_CARD,
}


def test_owner_sets_a_threshold_rule_and_setting_it_again_changes_nothing(session_api, owner_of):
    # given
    usd()
    account, owner = owner_of(name="Acme")
    api = session_api(owner)

    # when
    first = api.call("PUT", f"accounts/{account.pk}/automatic-refills/usd", THRESHOLD)
    again = api.call("PUT", f"accounts/{account.pk}/automatic-refills/USD", THRESHOLD)

    # then
    assert first.status_code == 200, first.json()
    body = again.json()
    assert again.status_code == 200 and body["id"] == first.json()["id"]
    assert body["threshold"] == {"amount": "100.00", "unit": "USD"}
    assert body["amount"] == {"amount": "500.00", "unit": "USD"}
    assert (body["status"], body["card_last4"], body["last_firing"]) == ("active", "4242", None)
    assert "card_number" not in body
    rule = RefillRule.objects.get()
    assert (rule.threshold, rule.amount, rule.buyer_id) == (10000, 50000, owner.pk)


def test_allowance_shows_when_it_is_due_and_its_firings(session_api, owner_of):
    usd()
    account, owner = owner_of(name="Acme")
    api = session_api(owner)
    response = api.call(
        "PUT",
        f"accounts/{account.pk}/automatic-refills/USD",
        {"kind": "allowance", "amount": "200.00", "provider": "invoice"},
    )
    assert response.status_code == 200, response.json()
    assert response.json()["threshold"] is None and response.json()["next_at"]

    listed = api.get(f"accounts/{account.pk}/automatic-refills").json()
    assert listed["count"] == 1 and listed["results"][0]["kind"] == "allowance"
    firings = api.get(f"accounts/{account.pk}/automatic-refills/USD/firings").json()
    assert firings["count"] == 0


def test_pause_resume_and_delete_are_repeatable_and_stop_the_rule(session_api, owner_of):
    # given
    usd()
    account, owner = owner_of(name="Acme")
    api = session_api(owner)
    api.call("PUT", f"accounts/{account.pk}/automatic-refills/USD", THRESHOLD)
    base = f"accounts/{account.pk}/automatic-refills/USD"

    # when / then: pausing twice is paused, and a paused rule buys nothing
    assert api.post(f"{base}/pause").json()["status"] == "paused"
    assert api.post(f"{base}/pause").json()["pause_reason"] == "owner"
    assert autorefills.run_automatic_refills() == 0
    assert api.post(f"{base}/resume").json()["status"] == "active"
    assert autorefills.run_automatic_refills() == 1
    firing = api.get(f"{base}/firings").json()["results"][0]
    assert firing["outcome"] == "paid" and firing["key"] == "threshold:1"
    assert firing["order_number"] == RefillFiring.objects.get().order.number

    # when: stopped
    assert api.delete(base).status_code == 204
    gone = api.delete(base)

    # then
    assert gone.status_code == 404 and error_code(gone) == "not_found"
    assert RefillRule.objects.get().deleted_at is not None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**THRESHOLD, "threshold": None}, "threshold"),
        ({**THRESHOLD, "threshold": "0.00"}, "threshold"),
        ({**THRESHOLD, "amount": "0.00"}, "amount"),
        ({**THRESHOLD, "amount": "1.001"}, "amount"),
        ({**THRESHOLD, "card_number": None}, "card_number"),
        ({**THRESHOLD, "kind": "weekly"}, "kind"),
        ({**THRESHOLD, "surprise": 1}, None),
    ],
)
def test_bad_rules_are_400_and_store_nothing(session_api, owner_of, body, field):
    usd()
    account, owner = owner_of(name="Acme")
    response = session_api(owner).call("PUT", f"accounts/{account.pk}/automatic-refills/USD", body)
    assert response.status_code == 400, response.json()
    assert error_code(response) == "validation_error"
    if field is not None:
        details = response.json()["error"]["details"]
        assert details.get("field") == field or field in details.get("fields", {}), details
    assert not RefillRule.objects.exists()


def test_someone_elses_account_and_unknown_units_are_not_found(session_api, owner_of):
    usd()
    mine, me = owner_of(name="Mine")
    theirs, _ = owner_of(name="Theirs")
    api = session_api(me)
    assert (
        api.call("PUT", f"accounts/{theirs.pk}/automatic-refills/USD", THRESHOLD).status_code == 404
    )
    assert api.get(f"accounts/{theirs.pk}/automatic-refills").status_code == 404
    assert (
        api.call("PUT", f"accounts/{mine.pk}/automatic-refills/NOPE", THRESHOLD).status_code == 404
    )
    assert not RefillRule.objects.exists()
