"""Staff see an account's automatic refills and what they bought, and may pause them."""

import pytest
from django.urls import reverse

from tests.factories import MembershipFactory, UserFactory
from tuition.accounts.models import Membership
from tuition.autorefills import services as autorefills
from tuition.autorefills.models import RefillRule
from tuition.checkout.payments import SUCCESS_CARD

pytestmark = pytest.mark.django_db


def _rule(account):  # type: ignore[no-untyped-def]
    from tests.factories import usd

    owner = UserFactory(email="olga@acme.test")
    MembershipFactory(account=account, user=owner, role=Membership.Role.OWNER)
    return autorefills.set_rule(
        account_id=account.pk,
        unit=usd(),
        rule=autorefills.RuleInput(
            kind="threshold",
            threshold=10000,
            amount=50000,
            provider="sandbox",
            card_number=SUCCESS_CARD,
        ),
        buyer=owner,
        actor="user:olga@acme.test",
    )


def test_the_account_page_shows_the_rules_and_their_firings(client, viewer, account):
    # given: a threshold rule that bought once
    _rule(account)
    assert autorefills.run_automatic_refills() == 1
    client.force_login(viewer)

    # when
    page = client.get(reverse("admin:accounts_trainingaccount_change", args=[account.pk]))

    # then
    text = page.content.decode()
    assert page.status_code == 200
    assert "Below $100.00, buy $500.00" in text and "Card ending 4242" in text
    assert "threshold crossing 1" in text and "Paid by card" in text
    assert "$500.00" in text and "50000" not in text


def test_a_superuser_pauses_a_rule_through_the_service(client, superuser, account):
    rule = _rule(account)
    client.force_login(superuser)
    response = client.post(
        reverse("admin:autorefills_refillrule_changelist"),
        {"action": "pause", "_selected_action": [rule.pk]},
    )
    assert response.status_code == 302
    stored = RefillRule.objects.get(pk=rule.pk)
    assert stored.pause_reason == "owner" and stored.actor == f"user:{superuser.pk}@admin"
