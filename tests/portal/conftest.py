import pytest

from tests.factories import (
    AccountFactory,
    MembershipFactory,
    TokenUnitFactory,
    UserFactory,
    make_activity,
    make_credit,
    make_session,
    usd,
)
from tuition.accounts.models import Membership


@pytest.fixture
def team(db):
    """Acme with an owner, a member who may see the balance, one who may not, a 500.00 credit
    and a pool code, plus a dated 300.00 course with two sessions."""
    from tuition.codes import services as codes

    usd_unit = usd()
    TokenUnitFactory()
    account = AccountFactory(name="Acme")
    owner = MembershipFactory(
        account=account,
        user=UserFactory(email="olga@acme.test"),
        role=Membership.Role.OWNER,
        can_view_balance=True,
    ).user
    viewer = MembershipFactory(
        account=account, user=UserFactory(email="ana@acme.test"), can_view_balance=True
    ).user
    member = MembershipFactory(account=account, user=UserFactory(email="ben@acme.test")).user
    stranger = UserFactory(email="lena@learner.test")
    credit = make_credit(account, 50000)
    pool = codes.create_pool_code(
        account_id=account.pk, unit=usd_unit, code="ACME-POOL", actor="test"
    )
    course = make_activity(
        title="Cloud Fundamentals", price=30000, is_dated=True, refund_window_days=14
    )
    first = make_session(course, days=10, capacity=5)
    second = make_session(course, days=40, capacity=5)
    return {
        "account": account,
        "owner": owner,
        "viewer": viewer,
        "member": member,
        "stranger": stranger,
        "credit": credit,
        "pool": pool,
        "course": course,
        "first": first,
        "second": second,
        "usd": usd_unit,
    }


@pytest.fixture
def login(client):
    def _login(user):
        client.force_login(user)
        return client

    return _login
