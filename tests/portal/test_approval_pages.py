"""Approval pages (SPEC §7): the owner sets the rules and decides on waiting redemptions; the
learner sees the wait on the order page and in My learning, then the registration."""

from django.urls import reverse

from tuition.checkout import approvals
from tuition.checkout.models import Order, Registration
from tuition.ledger.models import Hold, Lot


def test_the_owner_sets_rules_on_the_rules_page(team, login):
    # given
    client = login(team["owner"])
    url = reverse("portal:approval_rules", args=[team["account"].pk])

    # when
    response = client.post(
        url,
        {
            "above_USD": "100.00",
            "above_TT": "",
            "items": [f"activity:{team['course'].pk}"],
            "hold_hours": "48",
        },
    )

    # then
    assert response.status_code == 302
    policy = approvals.rules_for(team["account"].pk)
    assert policy.above == {"USD": 10000} and policy.items == [f"activity:{team['course'].pk}"]
    assert policy.hold_hours == 48
    again = client.get(url)
    assert b'value="100.00"' in again.content


def test_bad_rules_show_the_message_and_save_nothing(team, login):
    client = login(team["owner"])

    response = client.post(
        reverse("portal:approval_rules", args=[team["account"].pk]),
        {"above_USD": "1.005", "hold_hours": "48"},
    )

    assert response.status_code == 400
    assert b'class="error"' in response.content
    assert approvals.rules_for(team["account"].pk) is None


def test_a_member_waits_and_the_owner_approves_from_the_page(team, login):
    # given: everything above 100.00 needs approval
    approvals.set_rules(
        account_id=team["account"].pk, above={"USD": 10000}, items=[], hold_hours=48, actor="t"
    )
    member = login(team["member"])
    answer = member.post(
        reverse("portal:checkout", args=["activity", team["course"].pk]),
        {"method": "training_credit", "code": "ACME-POOL", "session": team["first"].pk},
    )
    order = Order.objects.get()
    assert answer.status_code == 302 and order.status == "awaiting_approval"
    waiting_page = member.get(answer["Location"])
    assert "Waiting for approval from your account owner" in waiting_page.content.decode()
    learning = member.get(reverse("portal:learning")).content.decode()
    assert "Waiting for approval" in learning and "Cloud Fundamentals" in learning

    # when: the owner approves on the approvals page
    owner = login(team["owner"])
    listed = owner.get(reverse("portal:approvals", args=[team["account"].pk])).content.decode()
    assert "ben@acme.test" in listed and "$300.00" in listed
    decided = owner.post(
        reverse("portal:decide", args=[team["account"].pk, order.hold_id, "approve"])
    )

    # then
    assert decided.status_code == 302
    assert Hold.objects.get().status == "captured"
    assert Registration.objects.get(learner=team["member"]).status == "active"
    learning = login(team["member"]).get(reverse("portal:learning")).content.decode()
    assert "Waiting for approval from" not in learning


def test_the_owner_declines_and_the_value_comes_back(team, login):
    approvals.set_rules(
        account_id=team["account"].pk, above={"USD": 0}, items=[], hold_hours=48, actor="t"
    )
    login(team["member"]).post(
        reverse("portal:checkout", args=["activity", team["course"].pk]),
        {"method": "training_credit", "code": "ACME-POOL", "session": team["first"].pk},
    )
    hold = Hold.objects.get()

    login(team["owner"]).post(
        reverse("portal:decide", args=[team["account"].pk, hold.pk, "decline"])
    )

    assert Hold.objects.get().status == "released"
    assert Lot.objects.get(pk=team["credit"].lot.pk).remaining == 50000
    assert Order.objects.get().status == "cancelled"
    learning = login(team["member"]).get(reverse("portal:learning")).content.decode()
    assert "Your account owner at Acme declined this request. Nothing was charged." in learning


def test_an_owner_of_another_account_cannot_decide(team, login):
    from tests.factories import AccountFactory, MembershipFactory, UserFactory

    approvals.set_rules(
        account_id=team["account"].pk, above={"USD": 0}, items=[], hold_hours=48, actor="t"
    )
    login(team["member"]).post(
        reverse("portal:checkout", args=["activity", team["course"].pk]),
        {"method": "training_credit", "code": "ACME-POOL", "session": team["first"].pk},
    )
    hold = Hold.objects.get()
    other = MembershipFactory(
        account=AccountFactory(), user=UserFactory(email="x@other.test"), role="owner"
    )

    response = login(other.user).post(
        reverse("portal:decide", args=[team["account"].pk, hold.pk, "approve"])
    )

    assert response.status_code == 404 and Hold.objects.get().status == "pending"
