"""Pages speak the person's chosen language, else their browser's; amounts and dates follow."""

import re

from django.urls import reverse

from tuition.accounts.models import User


def test_the_browser_language_is_used_for_a_visitor(team, client):
    page = client.get(reverse("portal:catalog"), HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9")
    html = page.content.decode()
    assert '<html lang="de">' in html and "<h1>Katalog</h1>" in html
    assert "300,00\xa0$" in html  # the course price, German style
    assert page["Content-Language"] == "de"


def test_a_person_s_chosen_language_wins_over_the_browser(team, login):
    team["owner"].language = "es"
    team["owner"].save()
    page = login(team["owner"]).get(
        reverse("portal:account", args=[team["account"].pk]), HTTP_ACCEPT_LANGUAGE="de"
    )
    html = page.content.decode()
    assert "Cuenta de formación" in html and "Comprar recarga" in html
    assert "500,00\xa0US$" in html  # the 500.00 credit


def test_the_profile_page_sets_the_language_and_time_zone(team, login):
    client = login(team["stranger"])
    response = client.post(
        reverse("portal:profile"),
        {"name": "Lena", "language": "de", "timezone": "Europe/Berlin"},
    )
    assert response.status_code == 302
    user = User.objects.get(pk=team["stranger"].pk)
    assert (user.name, user.language, user.timezone) == ("Lena", "de", "Europe/Berlin")
    page = client.get(reverse("portal:profile")).content.decode()
    assert "Ihre Einstellungen" in page and "Ihre Einstellungen sind gespeichert." in page


def test_an_unknown_time_zone_is_refused(team, login):
    response = login(team["stranger"]).post(
        reverse("portal:profile"), {"name": "", "language": "", "timezone": "Mars/Olympus"}
    )
    assert response.status_code == 200
    assert "Select a valid choice. Mars/Olympus is not one of the available choices." in (
        response.content.decode()
    )
    assert User.objects.get(pk=team["stranger"].pk).timezone == ""


def test_a_spec_error_reads_in_the_person_s_language(team, login):
    client = login(team["stranger"])
    client.post(reverse("portal:profile"), {"name": "", "language": "de", "timezone": ""})
    response = client.post(
        reverse("portal:checkout", args=["activity", team["course"].pk]),
        {"method": "training_credit", "code": "NOPE-NOPE", "session": team["first"].pk},
    )
    assert "Diesen Code gibt es nicht." in response.content.decode()


def test_every_owner_and_learner_page_renders_in_german(team, login):
    # given an owner who reads German, with a registration of their own
    from tuition.checkout import services as checkout
    from tuition.checkout.services import PaymentChoice

    owner = team["owner"]
    owner.language = "de"
    owner.save()
    result = checkout.checkout(
        learner_email=owner.email,
        payment=PaymentChoice(method="code", code="ACME-POOL"),
        activity_id=team["course"].pk,
        session_id=team["first"].pk,
        actor="test",
    )
    account = team["account"].pk
    client = login(owner)
    pages = {
        "portal:home": [],
        "portal:catalog": [],
        "portal:learning": [],
        "portal:profile": [],
        "portal:manage": [],
        "portal:order": [result.order.number],
        "portal:account": [account],
        "portal:transactions": [account],
        "portal:usage": [account],
        "portal:refill": [account],
        "portal:members": [account],
        "portal:codes": [account],
        "portal:book": [account],
    }
    for name, args in pages.items():
        response = client.get(reverse(name, args=args), follow=True)
        # then each answers in German
        assert response.status_code == 200, name
        assert '<html lang="de">' in response.content.decode(), name
    # chart geometry stays machine-readable (no decimal commas in SVG attributes)
    usage = client.get(reverse("portal:usage", args=[account])).content.decode()
    assert "<svg" in usage
    assert not re.search(r'(x|y|width|height)="-?\d+,\d+"', usage)
    ledger = client.get(reverse("portal:transactions", args=[account])).content.decode()
    # times in the provider's zone, named, in German order; no ISO timestamps
    assert "Buchungen" in ledger and re.search(r"\d+\.\d\d\.\d{4}, \d\d:\d\d UTC", ledger)
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:", ledger)
