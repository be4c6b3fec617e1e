"""Pages speak the person's chosen language, else their browser's; amounts and dates follow."""

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
