"""The staff area as a product: sign-in landing, the header link, the domain navigation,
the home page figures and their links, and amounts as people read them."""

import pytest
from django.urls import reverse

from tests.factories import AccountFactory, UserFactory, make_activity, make_credit, usd
from tuition.checkout.services import PaymentChoice, checkout

pytestmark = pytest.mark.django_db


def test_staff_land_on_the_staff_home_after_signing_in(client, manager):
    # given
    manager.set_password("pw-123456789")
    manager.save()
    # when
    answer = client.post(
        reverse("account_login"), {"login": manager.email, "password": "pw-123456789"}
    )
    # then
    assert answer.status_code == 302 and answer["Location"] == reverse("admin:index")


def test_learners_still_land_where_they_did(client):
    UserFactory(email="ana@acme.test").set_password("pw-123456789")
    user = UserFactory(email="lea@acme.test")
    user.set_password("pw-123456789")
    user.save()
    answer = client.post(
        reverse("account_login"), {"login": "lea@acme.test", "password": "pw-123456789"}
    )
    assert answer.status_code == 302 and answer["Location"] == "/"


def test_portal_pages_link_staff_to_their_dashboard(client, manager):
    client.force_login(manager)
    page = client.get(reverse("portal:catalog")).content.decode()
    assert 'id="staff-link"' in page and reverse("admin:index") in page


def test_learners_see_no_staff_link(client):
    client.force_login(UserFactory(email="lea@acme.test"))
    assert 'id="staff-link"' not in client.get(reverse("portal:catalog")).content.decode()


def test_the_header_has_the_provider_name_and_the_domain_sections(as_manager, settings):
    settings.TUITION = {**settings.TUITION, "PROVIDER_NAME": "Acme Learning"}
    page = as_manager.get(reverse("admin:index")).content.decode()
    assert "Acme Learning" in page and "Django administration" not in page
    for label in ("Discounts", "Training accounts", "Catalog", "Sales", "Reports", "Settings"):
        assert f">{label}</a>" in page
    assert page.index(">Discounts<") < page.index(">Catalog<") < page.index(">Settings<")


def test_framework_internals_are_only_for_superusers(as_manager, client, superuser):
    settings_page = as_manager.get(reverse("admin:section", args=["settings"])).content.decode()
    assert "Task results" not in settings_page and "Email addresses" not in settings_page
    assert "Token types" in settings_page and "API keys" in settings_page
    client.force_login(superuser)
    settings_page = client.get(reverse("admin:section", args=["settings"])).content.decode()
    assert "Task results" in settings_page and "Roles (permission groups)" in settings_page


def test_api_keys_are_listed_once(as_superuser):
    page = as_superuser.get(reverse("admin:section", args=["settings"])).content.decode()
    assert page.count(">API keys</a></h2>") == 1


def test_the_home_page_answers_how_we_are_doing(as_manager, account):
    # given: $500 and $300 outstanding (the $300 expires in 10 days), $120 redeemed
    make_credit(account, 50000)
    soon = make_credit(account, 30000, days=10)
    activity = make_activity(price=12000)
    checkout(
        learner_email="ana@acme.test",
        activity_id=activity.pk,
        actor="test",
        payment=PaymentChoice(method="code", code=soon.code_text),
    )
    # when
    page = as_manager.get(reverse("admin:index")).content.decode()
    # then
    assert "$680.00" in page  # outstanding: 500 + (300 - 120)
    assert "$180.00" in page  # expiring within 30 days
    assert "$120.00" in page  # redeemed in the last 30 days
    assert "ana@acme.test" in page  # recent orders
    assert "failed webhook deliveries" in page
    assert "?expiry=soon" in page and "state=active" in page and "kind__exact=redeem" in page


def test_the_home_page_links_open_their_filtered_lists(as_manager, account):
    make_credit(account, 50000)
    page = as_manager.get(reverse("admin:index")).content.decode()
    import re

    links = set(re.findall(r'href="(/admin/[^"]+\?[^"]+)"', page))
    assert links
    for link in links:
        answer = as_manager.get(link.replace("&amp;", "&"))
        assert answer.status_code == 200, link
        assert "?e=1" not in answer.url if hasattr(answer, "url") else True


def test_an_order_shows_amounts_with_their_unit_never_minor_units(as_superuser):
    usd()
    account = AccountFactory(name="Acme Corp")
    issued = make_credit(account, 50000)
    activity = make_activity(price=20000)
    result = checkout(
        learner_email="ana@acme.test",
        activity_id=activity.pk,
        actor="test",
        payment=PaymentChoice(method="code", code=issued.code_text),
    )
    order = result.order
    page = as_superuser.get(
        reverse("admin:checkout_order_change", args=[order.pk])
    ).content.decode()
    assert "$200.00" in page and "20000" not in page
    assert "UTC" in page
