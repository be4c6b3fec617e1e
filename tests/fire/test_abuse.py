"""Abuse of checkout: code guessing (rule 27, docs/decisions/0006-attempt-limits.md), dead
codes, hostile bodies and look-alike characters. Each gets a clear 4xx and writes nothing."""

import json
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.test import Client

from tests.api_support import Api, assert_only_refusals_stored, error_code
from tests.concurrency.parallel import run_in_parallel
from tests.factories import AccountFactory, make_activity, make_credit
from tuition.checkout import services as checkout
from tuition.checkout.models import Order
from tuition.codes import services as codes
from tuition.codes.limiter import DEFAULT_LIMITS
from tuition.codes.models import AttemptCounter
from tuition.core import clock
from tuition.core.errors import DomainError
from tuition.core.models import IdempotencyRecord
from tuition.ledger.models import Lot, Transfer

LEARNER_LIMIT = DEFAULT_LIMITS[AttemptCounter.Scope.LEARNER]  # 10
IP_LIMIT = DEFAULT_LIMITS[AttemptCounter.Scope.IP]  # 30


def _body(activity, code: str, email: str = "guesser@example.test") -> dict:
    return {
        "learner": {"email": email},
        "item": {"activity": str(activity.pk)},
        "payment": {"method": "code", "code": code},
    }


def _guess(n: int) -> str:
    return f"ZZZZ-ZZZZ-ZZZZ-{n:04d}"


def _nothing_written(lot: Lot) -> None:
    lot.refresh_from_db()
    assert lot.remaining == lot.redeemable_value
    assert not Order.objects.exists() and not Transfer.objects.filter(kind="redeem").exists()
    assert_only_refusals_stored()


@pytest.mark.django_db
def test_a_thousand_guesses_lock_the_learner_out_at_the_limit(api):
    # given: a real credit the guesser may eventually learn
    activity = make_activity(price=1000)
    credit = make_credit(AccountFactory(), 50000)

    # when: one learner from one IP sends 1,000 wrong codes
    outcomes = []
    for n in range(1000):
        response = api.post("checkout", _body(activity, _guess(n)))
        outcomes.append((response.status_code, error_code(response)))
        if response.status_code == 429:
            assert int(response["Retry-After"]) > 0

    # then: exactly the documented number were looked at, the rest were refused unread
    assert outcomes[:LEARNER_LIMIT] == [(422, "code_not_found")] * LEARNER_LIMIT
    assert outcomes[LEARNER_LIMIT:] == [(429, "too_many_attempts")] * (1000 - LEARNER_LIMIT)
    # and the valid code, entered while locked out, does nothing
    response = api.post("checkout", _body(activity, credit.code_text))
    assert response.status_code == 429 and error_code(response) == "too_many_attempts"
    _nothing_written(credit.lot)


@pytest.mark.django_db
def test_guesses_spread_over_learners_lock_their_ip_out():
    # given: one browser address trying codes under many learners' names
    activity = make_activity(price=1000)
    credit = make_credit(AccountFactory(), 50000)

    def attempt(code: str, email: str) -> str:
        try:
            checkout.checkout(
                learner_email=email,
                activity_id=activity.pk,
                actor="page",
                ip="192.0.2.7",
                payment=checkout.PaymentChoice(method="code", code=code),
            )
        except DomainError as error:
            return error.code
        return "ok"

    # when
    outcomes = [attempt(_guess(n), f"l{n}@example.test") for n in range(IP_LIMIT + 5)]

    # then: the IP is locked out at its limit, even for a valid code of a fresh learner
    assert outcomes == ["code_not_found"] * IP_LIMIT + ["too_many_attempts"] * 5
    assert attempt(credit.code_text, "new@example.test") == "too_many_attempts"
    _nothing_written(credit.lot)


@pytest.mark.django_db
def test_an_integrations_learners_do_not_lock_each_other_out(api):
    # given: an integrating system checks out for many learners from one server
    activity = make_activity(price=1000)
    credit = make_credit(AccountFactory(), 50000)

    # when its learners mistype more codes than one IP may
    statuses = [
        api.post("checkout", _body(activity, _guess(n), f"l{n}@example.test")).status_code
        for n in range(IP_LIMIT + 5)
    ]

    # then each is refused on its own merits, and the next learner's valid code works
    assert statuses == [422] * (IP_LIMIT + 5)
    fresh = api.post("checkout", _body(activity, credit.code_text, "new@example.test"))
    assert fresh.status_code == 201


@pytest.mark.django_db(transaction=True)
def test_fifty_parallel_guesses_count_exactly_to_the_limit():
    # given
    activity = make_activity(price=1000)
    make_credit(AccountFactory(), 50000)
    learner = checkout.learner_for("racer@example.test")

    # when: 50 wrong guesses by one learner hit the database together
    def guess(index: int) -> object:
        return checkout.checkout(
            learner_email=learner.email,
            activity_id=activity.pk,
            actor="test",
            ip="10.0.0.9",
            payment=checkout.PaymentChoice(method="code", code=_guess(index)),
        )

    outcomes = run_in_parallel(guess, 50)

    # then: each failed look-up is counted with a conditional update, so exactly the limit
    # answer code_not_found, the guesses past it too_many_attempts, and the learner is locked out
    assert outcomes.count("code_not_found") == LEARNER_LIMIT, outcomes
    assert set(outcomes) == {"code_not_found", "too_many_attempts"}, outcomes
    counter = AttemptCounter.objects.get(scope=AttemptCounter.Scope.LEARNER, key=str(learner.pk))
    assert counter.locked_until is not None and counter.locked_until > clock.now()


@pytest.mark.django_db(transaction=True)
def test_fifty_parallel_guesses_through_the_api_count_exactly_to_the_limit(make_key):
    # given: the API wraps checkout in its idempotency transaction; a failed look-up must
    # stay counted although that transaction is refused
    activity = make_activity(price=1000)
    make_credit(AccountFactory(), 50000)
    key = make_key("checkout")

    def guess(index: int) -> object:
        response = Api(Client(), key).post("checkout", _body(activity, _guess(index)))
        return error_code(response)

    # when
    outcomes = run_in_parallel(guess, 50)

    # then
    assert outcomes.count("code_not_found") == LEARNER_LIMIT, outcomes
    assert set(outcomes) == {"code_not_found", "too_many_attempts"}, outcomes
    assert not IdempotencyRecord.objects.filter(status="in_progress").exists()


@pytest.mark.django_db
def test_a_valid_code_gives_its_reserved_attempt_back():
    activity = make_activity(price=1000)
    credit = make_credit(AccountFactory(), 50000)
    learner = checkout.learner_for("honest@example.test")
    for index in range(LEARNER_LIMIT - 1):
        with pytest.raises(DomainError):
            checkout.checkout(
                learner_email=learner.email,
                activity_id=activity.pk,
                actor="t",
                payment=checkout.PaymentChoice(method="code", code=_guess(index)),
            )

    checkout.checkout(
        learner_email=learner.email,
        activity_id=activity.pk,
        actor="t",
        payment=checkout.PaymentChoice(method="code", code=credit.code_text),
    )

    counter = AttemptCounter.objects.get(scope="learner", key=str(learner.pk))
    assert counter.failures == LEARNER_LIMIT - 1 and counter.locked_until is None


@pytest.mark.django_db
def test_expired_inactive_and_deleted_codes_are_refused_with_their_codes(api):
    activity = make_activity(price=1000)
    account = AccountFactory()
    expiring = make_credit(account, 50000, days=1)
    inactive = make_credit(account, 50000)
    deleted = make_credit(account, 50000)
    codes.bulk_credit_action(action="deactivate", lot_ids=[inactive.lot.pk], actor="test")
    codes.delete_credit(lot_id=deleted.lot.pk, actor="test")

    with time_machine.travel(clock.now() + timedelta(days=2)):
        expired = api.post("checkout", _body(activity, expiring.code_text, "a@example.test"))
    off = api.post("checkout", _body(activity, inactive.code_text, "b@example.test"))
    gone = api.post("checkout", _body(activity, deleted.code_text, "c@example.test"))

    assert (expired.status_code, error_code(expired)) == (422, "code_expired")
    assert (off.status_code, error_code(off)) == (422, "code_inactive")
    assert (gone.status_code, error_code(gone)) == (422, "code_inactive")
    assert not Order.objects.exists() and not Transfer.objects.filter(kind="redeem").exists()
    assert_only_refusals_stored()


def _deep(levels: int) -> str:
    return '{"a":' * levels + "1" + "}" * levels


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("raw", "content_type", "status", "code"),
    [
        ("x" * (300 * 1024), "application/json", 413, "payload_too_large"),
        (
            '{"learner": {"email": "a@example.test"}, "pad": "' + "x" * (300 * 1024) + '"}',
            "application/json",
            413,
            "payload_too_large",
        ),
        (
            "learner=a@example.test",
            "application/x-www-form-urlencoded",
            415,
            "unsupported_media_type",
        ),
        ("<checkout/>", "text/xml", 415, "unsupported_media_type"),
        (_deep(40), "application/json", 400, "validation_error"),
        (_deep(20_000), "application/json", 400, "validation_error"),
        (
            '{"payment": {"method": "code", "code": "A"}, "payment": {"method": "card"}}',
            "application/json",
            400,
            "validation_error",
        ),
        ('{"item": NaN}', "application/json", 400, "validation_error"),
        ("\xff\xfe", "application/json", 400, "validation_error"),
    ],
    ids=[
        "huge-garbage",
        "huge-json",
        "form",
        "xml",
        "deep-40",
        "deep-20000",
        "duplicate-keys",
        "nan",
        "not-utf8",
    ],
)
def test_hostile_bodies_get_a_clear_4xx_and_write_nothing(api, raw, content_type, status, code):
    credit = make_credit(AccountFactory(), 50000)

    response = api.call(
        "POST",
        "checkout",
        raw=raw.encode("latin-1", "replace") if raw.startswith("\xff") else raw,
        content_type=content_type,
        idempotency_key=str(uuid.uuid4()),
    )

    assert response.status_code == status, response.content[:300]
    assert error_code(response) == code
    _nothing_written(credit.lot)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "swap",
    [
        ("A", "\u0410"),  # Cyrillic capital A
        ("E", "\u0415"),  # Cyrillic capital IE
        ("C", "\u0421"),  # Cyrillic capital ES
        ("0", "\uff10"),  # fullwidth digit zero
        ("-", "\u2010"),  # hyphen look-alike
    ],
    ids=["cyrillic-a", "cyrillic-e", "cyrillic-c", "fullwidth-0", "unicode-hyphen"],
)
def test_look_alike_characters_in_a_real_code_are_refused(api, swap):
    # given: a real, funded code, with one character swapped for a look-alike
    activity = make_activity(price=1000)
    credit = make_credit(AccountFactory(), 50000, code="ACE0-ACE0-ACE0")
    plain, look_alike = swap
    forged = credit.code_text.replace(plain, look_alike, 1)
    assert forged != credit.code_text

    response = api.post("checkout", _body(activity, forged))

    assert response.status_code == 400 and error_code(response) == "validation_error"
    _nothing_written(credit.lot)
    # and the real code still works afterwards
    ok = api.post("checkout", _body(activity, credit.code_text))
    assert ok.status_code == 201, ok.json()


@pytest.mark.django_db
def test_a_fullwidth_code_is_not_folded_into_the_real_one(api):
    activity = make_activity(price=1000)
    credit = make_credit(AccountFactory(), 50000, code="FULLWIDTH1")
    fullwidth = "".join(chr(ord(c) + 0xFEE0) for c in "FULLWIDTH1")

    response = api.post("checkout", _body(activity, fullwidth))

    assert response.status_code == 400 and error_code(response) == "validation_error"
    assert json.dumps(response.json()).find("FULLWIDTH") == -1  # the code is never echoed
    _nothing_written(credit.lot)
