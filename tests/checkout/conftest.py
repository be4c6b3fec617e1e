import pytest

from tests.factories import AccountFactory, TokenUnitFactory, make_activity, make_credit, usd


@pytest.fixture
def course(db):
    """A 300.00 USD activity that also costs 3 training tokens, refundable for 14 days."""
    tokens = TokenUnitFactory()
    return make_activity(price=30000, token_prices={tokens: 3}, refund_window_days=14)


@pytest.fixture
def acme(db):
    return AccountFactory(name="Acme")


@pytest.fixture
def credit(acme):
    return make_credit(acme, 50000)


@pytest.fixture
def usd_unit(db):
    return usd()
