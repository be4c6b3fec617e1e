"""A small, hand-checked world for the reports: two accounts, USD and token credits, a coupon,
a pool code, three code redemptions (one refunded) and a card purchase, at fixed times."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from tests.factories import (
    AccountFactory,
    MembershipFactory,
    TokenUnitFactory,
    UserFactory,
    make_activity,
    make_credit,
    usd,
)
from tuition.accounts.models import Membership
from tuition.checkout import services as checkout
from tuition.checkout.services import PaymentChoice
from tuition.codes import services as codes

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


@dataclass
class World:
    acme: Any
    beta: Any
    owner: Any
    ana: Any
    lots: dict[str, Any]
    codes: dict[str, str]
    orders: dict[str, Any]
    usd: Any
    tt: Any


def _at(days: float):  # type: ignore[no-untyped-def]
    return time_machine.travel(T0 + timedelta(days=days), tick=False)


@pytest.fixture
def world(db) -> World:
    with _at(0):
        dollars, tokens = usd(), TokenUnitFactory()
        acme, beta = AccountFactory(name="Acme"), AccountFactory(name="Beta")
        owner = UserFactory(email="olga@acme.test", name="Olga")
        MembershipFactory(account=acme, user=owner, role=Membership.Role.OWNER)
        ana = UserFactory(email="ana@acme.test", name="Ana")
        MembershipFactory(account=acme, user=ana, role=Membership.Role.MEMBER)
        cloud = make_activity("Cloud", price=30000)
        data = make_activity("Data", price=20000, token_prices={tokens: 2})
        ops = make_activity("Ops", price=15000, refund_window_days=14)
        a = make_credit(acme, 50000, days=20, code="CREDIT-AAAA")
        b = make_credit(acme, 10000, days=200, code="CREDIT-BBBB", purchase_price=9000)
        c = make_credit(acme, 5, unit=tokens, days=None, code="TOKENS-CCCC")
        d = make_credit(beta, 5000, days=400, code="CREDIT-DDDD")
        codes.create_coupon(name="Spring", percent_off_bp=1000, code="SPRING10", actor="staff")
        codes.create_pool_code(account_id=acme.pk, unit=dollars, actor="staff", code="ACME-POOL")
    orders = {}
    with _at(1):
        orders["cloud"] = checkout.checkout(
            learner_email="ana@acme.test",
            payment=PaymentChoice(method="code", code="CREDIT-AAAA"),
            activity_id=cloud.pk,
            actor="test",
        ).order
    with _at(2):
        orders["card"] = checkout.checkout(
            learner_email="bob@else.test",
            payment=PaymentChoice(method="card", coupon="SPRING10", card_number="4242424242424242"),
            activity_id=cloud.pk,
            actor="test",
        ).order
    with _at(3):
        orders["data"] = checkout.checkout(
            learner_email="ana@acme.test",
            payment=PaymentChoice(method="code", code="TOKENS-CCCC"),
            activity_id=data.pk,
            actor="test",
        ).order
    with _at(4):
        result = checkout.checkout(
            learner_email="carl@else.test",
            payment=PaymentChoice(method="code", code="ACME-POOL"),
            activity_id=ops.pk,
            actor="test",
        )
        orders["ops"] = result.order
    with _at(5):
        checkout.cancel_registration(
            registration_id=result.registration.pk, actor="staff", refund=True, by_staff=True
        )
    for order in orders.values():
        order.refresh_from_db()
    return World(
        acme=acme,
        beta=beta,
        owner=owner,
        ana=ana,
        lots={"a": a.lot, "b": b.lot, "c": c.lot, "d": d.lot},
        codes={"a": a.code_text},
        orders=orders,
        usd=dollars,
        tt=tokens,
    )


@pytest.fixture
def staff(db):
    return UserFactory(email="staff@provider.test", is_staff=True)
