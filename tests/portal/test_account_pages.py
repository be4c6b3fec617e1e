"""Owner pages: who may open them (SPEC rule 26), and what their forms do."""

import pytest
from django.urls import reverse

from tuition.accounts.models import Membership
from tuition.checkout.models import Order, Registration
from tuition.codes.models import RedemptionCode
from tuition.ledger.models import Lot

ACCOUNT_PAGES = [
    "portal:account",
    "portal:transactions",
    "portal:usage",
    "portal:refill",
    "portal:members",
    "portal:codes",
    "portal:book",
    "portal:approvals",
    "portal:approval_rules",
    "reports:account-statement",
    "reports:account-usage",
]


@pytest.mark.parametrize("page", ACCOUNT_PAGES)
@pytest.mark.parametrize("who", ["viewer", "member", "stranger"])
def test_non_owners_get_the_same_404_as_a_missing_account(team, login, page, who):
    # given someone who does not own Acme
    client = login(team[who])

    # when they open an Acme page, and the same page of an account that does not exist
    theirs = client.get(reverse(page, args=[team["account"].pk]))
    missing = client.get(reverse(page, args=[team["account"].pk + 999]))

    # then both answer 404 alike
    assert theirs.status_code == missing.status_code == 404
    assert theirs.content == missing.content


def test_signed_out_visitors_are_sent_to_sign_in(team, client):
    response = client.get(reverse("portal:account", args=[team["account"].pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_owner_sees_balances_and_lots(team, login):
    response = login(team["owner"]).get(reverse("portal:account", args=[team["account"].pk]))
    assert response.status_code == 200
    assert b"$500.00" in response.content


def test_team_balance_shows_only_for_people_allowed_to_see_it(team, login, client):
    assert b"Team balance" in login(team["viewer"]).get(reverse("portal:learning")).content
    client.logout()
    page = login(team["member"]).get(reverse("portal:learning")).content
    assert b"Team balance" not in page
    assert b"500.00" not in page


def test_owner_buys_a_refill_by_card(team, login):
    # when the owner buys 200.00 of credits with the sandbox card
    response = login(team["owner"]).post(
        reverse("portal:refill", args=[team["account"].pk]),
        {
            "unit": "USD",
            "amount": "200.00",
            "payment": "sandbox",
            "card_number": "4242 4242 4242 4242",
        },
    )

    # then the order page follows and a purchase lot of 200.00 exists
    order = Order.objects.get(item_kind="refill")
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:order", args=[order.number])
    lot = Lot.objects.get(source=Lot.Source.PURCHASE, account=team["account"])
    assert lot.remaining == 20000 and lot.expires_at is not None


def test_refill_with_a_bad_amount_shows_the_message_and_buys_nothing(team, login):
    response = login(team["owner"]).post(
        reverse("portal:refill", args=[team["account"].pk]),
        {"unit": "USD", "amount": "12.345", "payment": "sandbox"},
    )
    assert response.status_code == 400
    assert b"Amount has more than 2 decimal places." in response.content
    assert not Order.objects.exists()


def test_declined_refill_card_shows_the_message(team, login):
    response = login(team["owner"]).post(
        reverse("portal:refill", args=[team["account"].pk]),
        {"unit": "USD", "amount": "50", "payment": "sandbox", "card_number": "4000000000000002"},
    )
    assert response.status_code == 422
    assert b"The card payment was declined." in response.content
    assert not Lot.objects.filter(source=Lot.Source.PURCHASE).exists()


def test_owner_invites_allows_and_removes_a_member(team, login):
    client = login(team["owner"])
    url = reverse("portal:members", args=[team["account"].pk])

    assert client.post(url, {"email": "new@acme.test"}).status_code == 302
    added = Membership.objects.get(account=team["account"], user__email="new@acme.test")
    assert not added.can_view_balance

    client.post(
        reverse("portal:member_balance", args=[team["account"].pk, added.pk]), {"allow": "1"}
    )
    added.refresh_from_db()
    assert added.can_view_balance

    client.post(reverse("portal:member_remove", args=[team["account"].pk, added.pk]))
    assert not Membership.objects.filter(pk=added.pk).exists()


def test_inviting_a_bad_email_shows_the_error(team, login):
    response = login(team["owner"]).post(
        reverse("portal:members", args=[team["account"].pk]), {"email": "not-an-email"}
    )
    assert response.status_code == 400
    assert b"Enter a valid email address." in response.content


def test_owner_reveals_and_rotates_a_code(team, login):
    client = login(team["owner"])
    code = team["pool"].code
    shown = client.get(reverse("portal:code_reveal", args=[team["account"].pk, code.pk]))
    assert b"ACME-POOL" in shown.content

    rotated = client.post(reverse("portal:code_rotate", args=[team["account"].pk, code.pk]))
    assert rotated.status_code == 200
    code.refresh_from_db()
    assert b"ACME-POOL" not in rotated.content and code.hint.encode() in rotated.content


def test_codes_of_another_account_are_not_found(team, login):
    from tests.factories import AccountFactory, MembershipFactory

    other = AccountFactory(name="Other")
    MembershipFactory(account=other, user=team["stranger"], role=Membership.Role.OWNER)
    response = login(team["stranger"]).get(
        reverse("portal:code_reveal", args=[other.pk, team["pool"].code.pk])
    )
    assert response.status_code == 404


def test_member_code_with_a_cap(team, login):
    response = login(team["owner"]).post(
        reverse("portal:codes", args=[team["account"].pk]),
        {"which": "member", "member": str(team["member"].pk), "unit": "USD", "cap": "150"},
    )
    assert response.status_code == 201
    code = RedemptionCode.objects.get(kind=RedemptionCode.Kind.MEMBER)
    assert code.cap == 15000 and code.member == team["member"]


def test_member_code_with_a_bad_cap_shows_the_error(team, login):
    response = login(team["owner"]).post(
        reverse("portal:codes", args=[team["account"].pk]),
        {"which": "member", "member": str(team["member"].pk), "unit": "USD", "cap": "-1"},
    )
    assert response.status_code == 400
    assert b"Spending cap must not be negative." in response.content
    assert not RedemptionCode.objects.filter(kind=RedemptionCode.Kind.MEMBER).exists()


def test_owner_books_two_members_into_a_session(team, login):
    # given two members of Acme, and 500.00 + 200.00 of credits
    from tests.factories import make_credit

    make_credit(team["account"], 20000)
    memberships = Membership.objects.filter(user__in=[team["viewer"], team["member"]])

    # when the owner books them into the first session, paid from the pool
    response = login(team["owner"]).post(
        reverse("portal:book", args=[team["account"].pk]),
        {
            "activity": str(team["course"].pk),
            "session": str(team["first"].pk),
            "unit": "USD",
            "members": [str(m.pk) for m in memberships],
        },
    )

    # then each has a registration and a booking of their own, paid from the account
    assert response.status_code == 200
    registrations = Registration.objects.filter(activity=team["course"])
    assert {r.learner.email for r in registrations} == {"ana@acme.test", "ben@acme.test"}
    assert all(r.bookings.get().session == team["first"] for r in registrations)
    assert (
        sum(Lot.objects.filter(account=team["account"]).values_list("remaining", flat=True))
        == 10000
    )
    assert Order.objects.filter(account=team["account"], charged=30000).count() == 2
    team["first"].refresh_from_db()
    assert team["first"].booked == 2


def test_team_booking_reports_who_could_not_be_booked(team, login):
    # given only 500.00: the second booking of 300.00 cannot be paid
    memberships = list(
        Membership.objects.filter(user__in=[team["viewer"], team["member"]]).order_by("pk")
    )
    response = login(team["owner"]).post(
        reverse("portal:book", args=[team["account"].pk]),
        {
            "activity": str(team["course"].pk),
            "session": str(team["first"].pk),
            "unit": "USD",
            "members": [str(m.pk) for m in memberships],
        },
    )
    assert b"Not booked" in response.content
    assert Registration.objects.count() == 1


def test_the_owner_pages_link_the_statement_and_usage_downloads(team, login):
    response = login(team["owner"]).get(reverse("portal:usage", args=[team["account"].pk]))
    body = response.content.decode()
    assert reverse("reports:account-statement", args=[team["account"].pk]) in body
    assert reverse("reports:account-usage", args=[team["account"].pk]) in body


def test_usage_page_draws_the_charts(team, login):
    from tuition.checkout import services as checkout

    checkout.checkout(
        learner_email=team["member"].email,
        activity_id=team["course"].pk,
        session_id=team["first"].pk,
        actor="test",
        payment=checkout.PaymentChoice(method="code", code="ACME-POOL"),
    )
    response = login(team["owner"]).get(reverse("portal:usage", args=[team["account"].pk]))
    assert response.content.count(b"<svg") == 2
    assert b"ben@acme.test" in response.content
    assert b"style=" not in response.content


def test_owner_sees_when_the_balance_runs_out_and_what_expires(team, login):
    # given 90.00 spent from the 500.00 credit in the last 90 days
    from datetime import timedelta

    import time_machine

    from tests.factories import usd
    from tuition.core import clock
    from tuition.ledger import services as ledger

    with time_machine.travel(clock.now() - timedelta(days=10), tick=False):
        ledger.debit(account_id=team["account"].pk, unit=usd(), amount=9000, actor="t")
    # when
    client = login(team["owner"])
    overview = client.get(reverse("portal:account", args=[team["account"].pk]))
    statement = client.get(reverse("portal:transactions", args=[team["account"].pk]))
    # then the 410.00 left lasts 410 days at 1.00 a day, but the credit expires first
    page = overview.content.decode()
    assert "In the last 90 days this account used $90.00." in page
    assert "runs out on" in page and "will expire unused" in page
    assert 'class="svg-chart forecast-chart"' in page
    assert "runs out on" in statement.content.decode()
