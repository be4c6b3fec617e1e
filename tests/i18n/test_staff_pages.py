"""The staff area speaks the staff member's language: their profile's, else their browser's.

The dashboard, a list, the report builder and a service message, in German."""

import re

import pytest
from django.urls import reverse
from django.utils import translation

from tests.admin.conftest import _staff
from tests.factories import AccountFactory, make_activity, make_credit, usd
from tuition.accounts.admin_roles import COMMERCE_MANAGER
from tuition.checkout.errors import PaymentDeclinedError
from tuition.checkout.services import PaymentChoice, checkout
from tuition.codes import services as codes

pytestmark = pytest.mark.django_db


@pytest.fixture
def german_manager(client):  # type: ignore[no-untyped-def]
    client.force_login(_staff("greta@northwind.test", COMMERCE_MANAGER, language="de"))
    return client


@pytest.fixture
def account():  # type: ignore[no-untyped-def]
    usd()
    return AccountFactory(name="Acme Corp")


def test_the_dashboard_is_german_for_a_german_staff_member(german_manager, account):
    # given $500 outstanding, of which $120 were redeemed
    credit = make_credit(account, 62000)
    checkout(
        learner_email="ana@acme.test",
        activity_id=make_activity(price=12000).pk,
        actor="test",
        payment=PaymentChoice(method="code", code=credit.code_text),
    )
    # when
    page = german_manager.get(reverse("admin:index")).content.decode()
    # then the page, its navigation, figures and amounts are German
    assert '<html lang="de">' in page
    assert "<h1>Wie läuft es</h1>" in page
    assert (
        "Offener Wert" in page and "Training credits (USD) offen" in page
    )  # a unit's name is data
    assert "in 1 aktiven Guthaben" in page
    assert "500,00\xa0$" in page  # the amount as a German reader writes it
    for section in ("Rabatte", "Schulungskonten", "Katalog", "Verkauf", "Berichte"):
        assert f">{section}</a>" in page
    assert "Fehlgeschlagene Benachrichtigungen" in page
    assert "Training credits (USD) eingelöst pro Tag" in page
    # the chart's geometry stays machine numbers ("3.6", never "3,6")
    svg = re.search(r"<svg.*?</svg>", page, re.S).group(0)
    assert not re.search(r'(x|y|width|height)="\d+,\d', svg)
    # and English stays out of what Tuition says
    for english in ("How are we doing", "Outstanding value", "Recent orders", "Sign out"):
        assert english not in page
    # the way to change the language is in the header and the footer
    assert page.count(f'href="{reverse("portal:profile")}"') == 2


def test_the_credits_list_is_german(german_manager, account):
    # given
    make_credit(account, 15000)
    # when
    page = german_manager.get(reverse("admin:ledger_lot_changelist")).content.decode()
    # then the title, columns, filters, actions and the add link are German
    assert "<h1>Schulungsguthaben</h1>" in page
    assert "Neu: Schulungsguthaben" in page
    assert "Ausgewählte Guthaben deaktivieren" in page
    assert "verbleibend" in page.lower() and "Inhaber" in page
    assert "150,00\xa0$" in page
    assert "Training credits" not in page and "Deactivate selected credits" not in page


def test_a_field_of_a_list_reads_in_german(german_manager, account):
    # a column named after the model field itself ("external id"), and a model name
    page = german_manager.get(reverse("admin:accounts_trainingaccount_changelist"))
    text = page.content.decode()
    assert "Externe ID" in text or "externe ID" in text
    assert "Schulungskonten" in text


def test_the_report_builder_is_german(german_manager, account):
    # when
    page = german_manager.get(reverse("reports:builder") + "?type=codes").content.decode()
    # then its headings, columns, filters and buttons are German
    assert "<h1>Berichtsgenerator</h1>" in page
    assert "Spalten in der Datei" in page and "Weitere Spalten" in page
    assert "Einlösbarer Wert" in page and "Code endet auf" in page
    assert ">Schulungskonto</label>" in page and ">Von</label>" in page
    assert "CSV herunterladen" in page and "Vorschau" in page
    assert "Columns in the file" not in page and "Download CSV" not in page


def test_a_report_refusal_names_the_filter_in_german(german_manager, account):
    url = reverse("reports:builder") + "?type=purchases&from=2026-02-01&to=2026-01-01&preview=1"
    page = german_manager.get(url)
    assert page.status_code == 400
    assert "„Von“ darf nicht nach „Bis“ liegen." in page.content.decode()


def test_a_german_browser_gets_german_staff_pages_without_a_chosen_language(client, account):
    # given a staff member who chose no language
    client.force_login(_staff("sam@northwind.test", COMMERCE_MANAGER))
    # when their browser asks for German
    page = client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9")
    # then
    assert "Wie läuft es" in page.content.decode()


def test_the_chosen_language_wins_over_the_browser(client, account):
    client.force_login(_staff("emma@northwind.test", COMMERCE_MANAGER, language="en"))
    page = client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="de")
    assert "How are we doing" in page.content.decode()


def test_the_coupon_message_names_the_rest_in_german_money():
    # given a $300 course and a 10 % coupon entered where a code goes
    usd()
    course = make_activity(title="Kurs", price=30000)
    codes.create_coupon(name="Spring", percent_off_bp=1000, code="SPRING10", actor="staff")
    # when a German learner pays without a card
    with translation.override("de"), pytest.raises(PaymentDeclinedError) as refused:
        checkout(
            learner_email="ana@acme.test",
            activity_id=course.pk,
            actor="test",
            payment=PaymentChoice(method="code", code="SPRING10"),
        )
    # then the message is German, with the amount as Germans write it
    assert refused.value.message == (
        "Nach dem Gutschein bleiben 270,00\xa0$ per Karte zu zahlen: "
        "Geben Sie eine Kartennummer ein."
    )


def test_the_demo_has_a_staff_member_who_reads_german(client):
    from tuition.portal.demo import DEMO_LOGINS, DEMO_PASSWORD, load_demo

    # given the demo
    assert load_demo()
    assert "greta@northwind.test" in {email for email, _ in DEMO_LOGINS}
    # when Greta signs in to the staff area
    assert client.login(username="greta@northwind.test", password=DEMO_PASSWORD)
    page = client.get(reverse("admin:index")).content.decode()
    # then it is German
    assert "Wie läuft es" in page and "Offener Wert" in page


def test_the_audit_trail_is_german(german_manager, account):
    # given changes by a staff member through the admin and by a job
    from django.contrib.auth import get_user_model

    from tuition.core.actors import ADMIN, Actor
    from tuition.core.audit import record_change

    greta = get_user_model().objects.get(email="greta@northwind.test")
    greta_admin = Actor.for_user(greta, via=ADMIN)
    for export_id in (7, 8):
        record_change(
            actor=greta_admin,
            verb="export requested",
            object_type="reports.reportexport",
            object_id=export_id,
        )
    record_change(actor=Actor.for_job("expire_credits"), verb="changed", obj=account)
    record_change(actor=greta_admin, verb="created", object_type="api.apikey", object_id="AbCd1234")
    # when
    page = german_manager.get(reverse("admin:audit")).content.decode()
    # then the headline, the filters, the actors and the kinds of change are German
    assert "<h1>Änderungsprotokoll</h1>" in page
    assert "Person, API-Schlüssel oder Job" in page and "Alle Änderungen" in page
    assert "(Mitarbeiter)" in page and "Verwaltung" in page
    assert "Guthaben verfallen lassen (Job)" in page
    assert "Export angefordert" in page and "Geändert" in page
    assert "API-Schlüssel #AbCd1234" in page
    # each kind of record is one choice of the object filter
    assert page.count('value="reports.reportexport"') == 1
    assert "Seite 1 von 1" in page and re.search(r"\b\d+ Änderungen\b", page)
    # and English stays out of what Tuition says
    for english in ("Audit trail", "(staff)", "Export requested", "Any change", " via "):
        assert english not in page
