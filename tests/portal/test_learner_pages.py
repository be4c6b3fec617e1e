"""Learner pages: catalog, checkout with inline errors, My learning and its actions."""

from django.urls import reverse

from tuition.checkout.models import Booking, Order, Registration
from tuition.ledger.models import Lot, Transfer


def _checkout_url(team):
    return reverse("portal:checkout", args=["activity", team["course"].pk])


def test_home_shows_the_catalog_with_prices(team, client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"Cloud Fundamentals" in response.content and b"$300.00" in response.content


def test_item_page_lists_sessions_with_seats_left(team, client):
    response = client.get(reverse("portal:item", args=["activity", team["course"].pk]))
    assert response.status_code == 200
    assert response.content.count(b"?session=") == 2


def test_unknown_item_is_404(team, client):
    assert client.get(reverse("portal:item", args=["activity", 999999])).status_code == 404
    assert client.get(reverse("portal:item", args=["bundle", 1])).status_code == 404


def test_checkout_by_code_enrolls_and_shows_receipt_and_invoice(team, login):
    client = login(team["stranger"])
    response = client.post(
        _checkout_url(team),
        {"method": "training_credit", "code": "acme pool", "session": team["first"].pk},
    )
    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:order", args=[order.number])

    page = client.get(response["Location"]).content.decode()
    assert order.receipt.number in page and order.invoice.number in page
    assert Booking.objects.get().session == team["first"]


def test_insufficient_balance_shows_the_message_and_writes_nothing(team, login):
    # given a course dearer than the account's 500.00
    from tests.factories import make_activity

    dear = make_activity(title="Expensive", price=90000)
    transfers = Transfer.objects.count()

    # when a learner pays with the pool code
    response = login(team["stranger"]).post(
        reverse("portal:checkout", args=["activity", dear.pk]),
        {"method": "training_credit", "code": "ACME-POOL"},
    )

    # then the SPEC message is shown next to the code, and nothing is charged or written
    assert response.status_code == 422
    assert b'aria-invalid="true"' in response.content
    assert b"balance" in response.content.lower()
    assert b"500.00" not in response.content  # the balance is never shown to a learner
    assert not Order.objects.exists() and not Registration.objects.exists()
    assert Transfer.objects.count() == transfers
    assert Lot.objects.get(pk=team["credit"].lot.pk).remaining == 50000


def test_unknown_code_shows_code_not_found(team, login):
    response = login(team["stranger"]).post(
        _checkout_url(team),
        {"method": "training_credit", "code": "NOPE-NOPE", "session": team["first"].pk},
    )
    assert response.status_code == 422
    assert b"This code does not exist." in response.content


def test_dated_course_without_a_session_asks_for_one(team, login):
    response = login(team["stranger"]).post(_checkout_url(team), {"method": "card"})
    assert response.status_code in (409, 422)
    assert b"Choose a date" in response.content
    assert not Order.objects.exists()


def test_apply_shows_the_quote(team, login):
    response = login(team["stranger"]).post(
        reverse("portal:quote", args=["activity", team["course"].pk]),
        {"method": "training_credit", "code": "ACME-POOL", "session": team["first"].pk},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert b"Code applied" in response.content and b"$300.00" in response.content
    assert b'id="pay-button" hx-swap-oob="true">Pay and enroll</button>' in response.content


def test_apply_says_when_an_owner_must_approve(team, login):
    from tuition.checkout import approvals

    approvals.set_rules(
        account_id=team["account"].pk,
        above={"USD": 20000},
        items=[],
        hold_hours=48,
        actor="olga@acme.test",
    )
    response = login(team["stranger"]).post(
        reverse("portal:quote", args=["activity", team["course"].pk]),
        {"method": "training_credit", "code": "ACME-POOL", "session": team["first"].pk},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert b"This needs the approval of an owner of Acme." in response.content
    assert b'id="pay-button" hx-swap-oob="true">Request approval</button>' in response.content
    assert not Order.objects.exists()


def test_apply_shows_the_spec_error_inline(team, login):
    response = login(team["stranger"]).post(
        reverse("portal:quote", args=["activity", team["course"].pk]),
        {"method": "training_credit", "code": "WRONG", "session": team["first"].pk},
        headers={"HX-Request": "true"},
    )
    assert b'data-code="code_not_found"' in response.content
    assert b"This code does not exist." in response.content


def test_card_checkout_with_the_sandbox_card(team, login):
    response = login(team["stranger"]).post(
        _checkout_url(team),
        {"method": "card", "card_number": "4242424242424242", "session": team["second"].pk},
    )
    assert response.status_code == 302
    assert Order.objects.get().method == Order.Method.CARD


def test_a_coupon_under_training_credit_asks_for_the_card_and_pays_by_card(team, login):
    # given a 10 % coupon typed into the code field with "Training credit" picked
    from tuition.codes import services as codes

    codes.create_coupon(name="Spring", percent_off_bp=1000, code="SPRING10", actor="staff")
    client = login(team["stranger"])
    form = {"method": "training_credit", "code": "SPRING10", "session": team["first"].pk}
    # when they apply it, then the quote says the rest goes to the card
    quote = client.post(reverse("portal:quote", args=["activity", team["course"].pk]), form)
    assert b"needs-card" in quote.content and b"$270.00" in quote.content
    # when they pay without a card, then nothing is paid and the card field says why
    response = client.post(_checkout_url(team), form)
    assert response.status_code == 422 and not Order.objects.exists()
    page = response.content.decode()
    assert 'id="card-error"' in page and "enter a card number" in page
    # when they enter the card, then the order is paid by card, with the coupon
    response = client.post(_checkout_url(team), {**form, "card_number": "4242 4242 4242 4242"})
    assert response.status_code == 302, response.content.decode()
    order = Order.objects.get()
    assert (order.method, order.charged, order.code_hint) == ("card", 27000, "NG10")


def test_a_card_checkout_with_a_blank_card_is_declined(team, login):
    response = login(team["stranger"]).post(
        _checkout_url(team), {"method": "card", "card_number": "", "session": team["first"].pk}
    )
    assert response.status_code == 422 and b"Enter a card number" in response.content
    assert not Order.objects.exists()


def _enrolled(team, login):
    client = login(team["member"])
    client.post(
        _checkout_url(team),
        {"method": "training_credit", "code": "ACME-POOL", "session": team["first"].pk},
    )
    return client, Registration.objects.get()


def test_my_learning_lists_the_registration_with_its_date(team, login):
    client, registration = _enrolled(team, login)
    page = client.get(reverse("portal:learning")).content.decode()
    assert "Cloud Fundamentals" in page and "Find another time" in page
    assert registration.order.receipt.number in page


def test_find_another_time_moves_the_booking_without_charging(team, login):
    client, registration = _enrolled(team, login)
    transfers = Transfer.objects.count()
    url = reverse("portal:sessions", args=[registration.pk, team["course"].pk])
    assert client.get(url).status_code == 200

    response = client.post(url, {"session": team["second"].pk})

    assert response.status_code == 302
    assert registration.bookings.get(status=Booking.Status.ACTIVE).session == team["second"]
    assert Transfer.objects.count() == transfers


def test_unenroll_keeps_the_registration_and_a_new_date_can_be_booked(team, login):
    client, registration = _enrolled(team, login)
    client.post(reverse("portal:unenroll", args=[registration.pk, team["course"].pk]))
    registration.refresh_from_db()
    assert registration.status == Registration.Status.ACTIVE
    assert not registration.bookings.filter(status=Booking.Status.ACTIVE).exists()

    client.post(
        reverse("portal:sessions", args=[registration.pk, team["course"].pk]),
        {"session": team["second"].pk},
    )
    assert registration.bookings.get(status=Booking.Status.ACTIVE).session == team["second"]


def test_another_learners_registration_is_not_found(team, login, client):
    _, registration = _enrolled(team, login)
    client.logout()
    other = login(team["stranger"])
    url = reverse("portal:sessions", args=[registration.pk, team["course"].pk])
    assert other.get(url).status_code == 404
    assert (
        other.post(
            reverse("portal:unenroll", args=[registration.pk, team["course"].pk])
        ).status_code
        == 404
    )
    assert other.post(reverse("portal:cancel", args=[registration.pk])).status_code == 404
    assert other.get(reverse("portal:order", args=[registration.order.number])).status_code == 404


def test_learner_cancels_within_the_refund_window(team, login):
    client, registration = _enrolled(team, login)
    client.post(reverse("portal:cancel", args=[registration.pk]))
    registration.refresh_from_db()
    assert registration.status == Registration.Status.CANCELLED and registration.refunded
    assert Lot.objects.get(pk=team["credit"].lot.pk).remaining == 50000


def test_pages_carry_no_inline_script_or_style(team, login):
    client, _ = _enrolled(team, login)
    for url in [
        "/",
        reverse("portal:learning"),
        _checkout_url(team),
        reverse("portal:item", args=["activity", team["course"].pk]),
    ]:
        body = client.get(url).content.decode()
        assert " style=" not in body and "onclick" not in body
        assert "<script>" not in body


def test_sign_in_page_uses_the_product_layout_and_shows_form_errors(team, client):
    page = client.get(reverse("account_login")).content.decode()
    assert "portal/portal.css" in page and "htmx-config" in page
    response = client.post(
        reverse("account_login"), {"login": "olga@acme.test", "password": "wrong"}
    )
    assert response.status_code == 200
    assert "not correct" in response.content.decode()


def test_the_course_page_offers_a_registered_learner_another_time_and_unenroll(team, login):
    # given a learner booked on the first date
    client, registration = _enrolled(team, login)
    url = reverse("portal:item", args=["activity", team["course"].pk])
    page = client.get(url).content.decode()
    # then the course page shows their date, with Find another time and Unenroll
    assert "Find another time" in page and "Unenroll" in page
    assert reverse("portal:unenroll", args=[registration.pk, team["course"].pk]) in page
    # and once they unenroll, it offers to book a date instead
    client.post(reverse("portal:unenroll", args=[registration.pk, team["course"].pk]))
    page = client.get(url).content.decode()
    assert "Book a date" in page and "Unenroll" not in page


def test_pages_show_prices_in_usd_and_session_times_in_their_zone(team, client, settings):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from tests.factories import make_session

    berlin = make_session(team["course"], days=60)
    berlin.timezone = "Europe/Berlin"
    berlin.starts_at = datetime(2099, 1, 10, 9, tzinfo=ZoneInfo("Europe/Berlin"))
    berlin.ends_at = datetime(2099, 1, 10, 17, tzinfo=ZoneInfo("Europe/Berlin"))
    berlin.save()
    page = client.get(reverse("portal:item", args=["activity", team["course"].pk])).content
    assert "Sat 10 Jan 2099, 09:00\u201317:00 CET (Europe/Berlin)".encode() in page
    # no token price before checkout (rule 9), though a course has one
    from tests.factories import make_activity
    from tuition.ledger.models import Unit

    priced = make_activity(
        title="Tokened", price=1000, token_prices={Unit.objects.get(code="TT"): 3}
    )
    catalog = client.get(reverse("portal:catalog")).content
    item = client.get(reverse("portal:item", args=["activity", priced.pk])).content
    assert b"$10.00" in catalog and b"$10.00" in item
    assert b"3 TT" not in catalog and b"3 TT" not in item


def test_pay_by_tokens_off_hides_the_method_and_refuses_token_codes(team, login, settings):
    from tuition.checkout import services as checkout
    from tuition.codes import services as codes
    from tuition.core.errors import DomainError
    from tuition.ledger.models import Unit

    settings.TUITION = {**settings.TUITION, "PAY_BY_TOKENS": False}
    tokens = Unit.objects.get(code="TT")
    codes.create_pool_code(account_id=team["account"].pk, unit=tokens, code="ACME-TT", actor="test")
    page = login(team["stranger"]).get(_checkout_url(team)).content.decode()
    assert 'value="training_credit"' in page and 'value="tokens"' not in page
    try:
        checkout.checkout(
            learner_email="lena@learner.test",
            activity_id=team["course"].pk,
            session_id=team["first"].pk,
            payment=checkout.PaymentChoice(method="code", code="ACME-TT"),
            actor="test",
        )
    except DomainError as error:
        assert error.code == "not_priced_in_unit" and "tokens" in error.message
    else:
        raise AssertionError("a token code paid while Pay by tokens is off")
    assert not Order.objects.exists()
