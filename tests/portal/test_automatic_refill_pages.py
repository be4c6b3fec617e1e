"""The owner's Automatic refills section: set, see, pause, resume and remove a rule."""

import pytest
from django.urls import reverse

from tests.factories import AccountFactory
from tuition.autorefills import services as autorefills
from tuition.autorefills.models import RefillRule

pytestmark = pytest.mark.django_db


def _set(client, account, **fields):
    body = {
        "auto-unit": "USD",
        "auto-kind": "threshold",
        "auto-threshold": "100.00",
        "auto-amount": "500.00",
        "auto-payment": "sandbox",
        "auto-card_number": "4242 4242 4242 4242",
        **fields,
    }
    return client.post(reverse("portal:automatic_refill_set", args=[account.pk]), body)


def test_owner_sets_a_threshold_refill_and_sees_it_with_what_comes_next(team, login):
    # given
    client = login(team["owner"])

    # when
    response = _set(client, team["account"])

    # then
    assert response.status_code == 302
    assert response["Location"].endswith("/refill/#automatic")
    rule = RefillRule.objects.get(account=team["account"])
    assert (rule.kind, rule.threshold, rule.amount, rule.card_last4) == (
        "threshold",
        10000,
        50000,
        "4242",
    )
    page = client.get(reverse("portal:refill", args=[team["account"].pk])).content.decode()
    assert "Below $100.00, buy $500.00" in page
    assert "Card ending 4242" in page
    assert "When the available balance falls below $100.00." in page
    assert "4242424242424242" not in page


def test_the_page_shows_the_last_refill_and_the_next_month_of_an_allowance(team, login):
    # given: an allowance that bought this month (set before the first)
    client = login(team["owner"])
    _set(client, team["account"], **{"auto-kind": "allowance", "auto-payment": "invoice"})
    rule = RefillRule.objects.get()
    RefillRule.objects.filter(pk=rule.pk).update(
        created_at=autorefills.month_start(rule.created_at)
    )
    fired = autorefills.fire_rule(rule_id=rule.pk)
    assert fired is not None and fired.outcome == "invoiced"

    # when
    page = client.get(reverse("portal:refill", args=[team["account"].pk])).content.decode()

    # then
    assert "$500.00 on the first of every month" in page
    assert "Invoiced" in page and rule.firing_set.get().order.number in page
    assert "Due now" not in page


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"auto-threshold": ""}, "Threshold"),
        ({"auto-amount": "12.345"}, "more than 2 decimal places"),
        ({"auto-card_number": ""}, "Enter a card number to pay automatic refills by card."),
    ],
)
def test_a_bad_rule_shows_the_message_and_saves_nothing(team, login, fields, message):
    response = _set(login(team["owner"]), team["account"], **fields)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not RefillRule.objects.exists()


def test_pause_resume_and_remove(team, login):
    # given
    client = login(team["owner"])
    _set(client, team["account"])
    rule = RefillRule.objects.get()
    args = [team["account"].pk, rule.pk]

    # when / then
    client.post(reverse("portal:automatic_refill_pause", args=args))
    assert RefillRule.objects.get().pause_reason == "owner"
    page = client.get(reverse("portal:refill", args=[team["account"].pk])).content.decode()
    assert "Nothing while paused." in page and "Resume" in page
    client.post(reverse("portal:automatic_refill_resume", args=args))
    assert RefillRule.objects.get().pause_reason == ""
    client.post(reverse("portal:automatic_refill_delete", args=args))
    assert RefillRule.objects.get().deleted_at is not None
    page = client.get(reverse("portal:refill", args=[team["account"].pk])).content.decode()
    assert "No automatic refills yet." in page


def test_members_and_other_owners_cannot_touch_the_rule(team, login):
    # given
    _set(login(team["owner"]), team["account"])
    rule = RefillRule.objects.get()
    other = AccountFactory(name="Other")

    # when
    member = login(team["member"])
    paused = member.post(
        reverse("portal:automatic_refill_pause", args=[team["account"].pk, rule.pk])
    )
    elsewhere = login(team["owner"]).post(
        reverse("portal:automatic_refill_pause", args=[other.pk, rule.pk])
    )

    # then
    assert paused.status_code == 404 and elsewhere.status_code == 404
    assert RefillRule.objects.get().pause_reason == ""
