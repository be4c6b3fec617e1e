"""An integrating system's view: a Python client generated with openapi-python-client from the
live schema (no warnings), and an integration's whole flow run with nothing but that code."""

import importlib
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from tests.factories import usd as builtin_usd
from tuition.api.keys import create_api_key
from tuition.checkout.models import Order, Registration
from tuition.core import clock
from tuition.ledger.models import Lot, Transfer

GENERATOR = Path(sys.executable).parent / "openapi-python-client"
CONFIG = "post_hooks: []\nproject_name_override: tuition-client\n"


@pytest.fixture
def client_package(live_server, tmp_path):  # type: ignore[no-untyped-def]
    """Generate `tuition_client` from /api/schema/ and import it."""
    (tmp_path / "config.yaml").write_text(CONFIG)
    result = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--url",
            f"{live_server.url}/api/schema/",
            "--meta",
            "none",
            "--output-path",
            str(tmp_path / "tuition_client"),
            "--config",
            str(tmp_path / "config.yaml"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Warning" not in output and "warning" not in output, output
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module("tuition_client")
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m.split(".")[0] == "tuition_client"]:
            del sys.modules[name]


def _module(package, name):  # type: ignore[no-untyped-def]
    return importlib.import_module(f"{package.__name__}.{name}")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_an_integration_runs_its_flow_with_the_generated_client(live_server, client_package):
    # given: the built-in USD unit, an API key, and a client made only from the generated code
    builtin_usd()
    _, key = create_api_key(name="crm", scopes=["admin"], actor="test")
    tc = client_package
    m = _module(tc, "models")
    api = {
        name: _module(tc, f"api.{group}.{name}")
        for group, name in [
            ("units", "units_create"),
            ("accounts", "accounts_create"),
            ("accounts", "accounts_balances"),
            ("activities", "activities_create"),
            ("sessions", "sessions_create"),
            ("credits_", "credits_create"),
            ("checkout", "checkout_create"),
            ("transactions", "transactions_list"),
            ("registrations", "registrations_cancel"),
            ("orders", "orders_list"),
            ("orders", "orders_retrieve"),
            ("orders", "orders_receipt"),
            ("orders", "orders_invoice"),
            ("reports", "reports_run"),
        ]
    }
    client = tc.AuthenticatedClient(base_url=live_server.url, token=key, prefix="Api-Key")

    # a token type, an account, an activity priced in USD and tokens, a dated session
    unit = api["units_create"].sync(
        client=client, body=m.UnitInRequest(code="TT", name="Training Token")
    )
    assert isinstance(unit, m.UnitOut) and unit.code == "TT"
    account = api["accounts_create"].sync(
        client=client,
        body=m.AccountInRequest(name="Acme", external_id="crm-42", owners=["olga@acme.test"]),
    )
    assert isinstance(account, m.AccountOut) and account.external_id == "crm-42"
    activity = api["activities_create"].sync(
        client=client,
        body=m.ActivityInRequest(
            title="Cloud Fundamentals",
            price="300.00",
            token_prices=[m.TokenPriceInRequest(unit="TT", amount="3")],
            refund_window_days=14,
        ),
    )
    assert isinstance(activity, m.ActivityOut)
    assert activity.price.amount == "300.00" and activity.price.unit == "USD"
    assert [(p.unit, p.amount) for p in activity.token_prices] == [("TT", "3")]
    starts = clock.now() + timedelta(days=30)
    session = api["sessions_create"].sync(
        client=client,
        body=m.SessionInRequest(
            activity=activity.id,
            starts_at=starts,
            ends_at=starts + timedelta(hours=8),
            capacity=12,
            timezone="Europe/Berlin",
            location="Online",
        ),
    )
    assert isinstance(session, m.SessionOut) and session.seats_left == 12

    # a credit with an external ID, sent with an Idempotency-Key, and its retry
    credit_body = m.CreditInRequest(
        account=account.id, redeemable_value="500.00", purchase_price="450.00", external_id="pi_1"
    )
    first = api["credits_create"].sync_detailed(
        client=client, body=credit_body, idempotency_key="crm-credit-1"
    )
    retry = api["credits_create"].sync_detailed(
        client=client, body=credit_body, idempotency_key="crm-credit-1"
    )
    assert first.status_code == 201 and retry.status_code == 201
    credit = first.parsed
    assert isinstance(credit, m.CreditOut) and credit.remaining.amount == "500.00"
    assert retry.headers.get("Idempotent-Replayed") == "true" and retry.parsed.id == credit.id
    assert credit.purchase_price.amount == "450.00" and Lot.objects.count() == 1

    # checkout with the credit's code, for a learner, on the dated session
    result = api["checkout_create"].sync(
        client=client,
        idempotency_key="crm-checkout-1",
        body=m.CheckoutInRequest(
            learner=m.LearnerInRequest(email="ana@acme.test", name="Ana"),
            item=m.CheckoutItemInRequest(activity=activity.id),
            session=session.id,
            payment=m.PaymentInRequest(method=m.MethodEnum.CODE, code=credit.code.lower()),
        ),
    )
    assert isinstance(result, m.CheckoutResult), result
    assert result.order.charged.amount == "300.00" and result.order.session == session.id
    assert result.booking.session == session.id and result.invoice.number

    # the balance
    [usd] = api["accounts_balances"].sync(client=client, account_id=account.id)
    assert usd.available.amount == "200.00" and usd.lots[0].id == credit.id

    # cancel with a refund: the value goes back into the same credit
    cancelled = api["registrations_cancel"].sync(
        client=client,
        registration_id=result.registration.id,
        idempotency_key="crm-cancel-1",
        body=m.CancelInRequest(refund=True),
    )
    assert isinstance(cancelled, m.RegistrationOut), cancelled
    assert cancelled.status.value == "cancelled" and cancelled.refunded is True
    assert Registration.objects.get().status == "cancelled"
    assert Lot.objects.get().remaining == 50000

    # the account's transactions, page by page (issue, redeem, reverse; two per page)
    seen, page = [], 1
    while True:
        listing = api["transactions_list"].sync(
            client=client, account=account.id, page=page, page_size=2
        )
        assert isinstance(listing, m.TransactionPage), listing
        seen += [(t.kind, t.amount.amount) for t in listing.results]
        if not listing.next_:
            break
        page += 1
    assert page == 2 and listing.count == 3
    assert sorted(seen) == [("issue", "500.00"), ("redeem", "300.00"), ("reverse", "300.00")]
    assert Transfer.objects.filter(account_id=int(account.id)).count() == 3

    # orders, with receipt and invoice
    orders = api["orders_list"].sync(client=client, account=account.id)
    [order] = orders.results
    assert order.id == result.order.id and order.group is None
    fetched = api["orders_retrieve"].sync(client=client, order_id=order.id)
    assert fetched.list_price.amount == "300.00" and fetched.status.value == "refunded"
    receipt = api["orders_receipt"].sync(client=client, order_id=order.id)
    invoice = api["orders_invoice"].sync(client=client, order_id=order.id)
    assert receipt.amount.amount == "300.00" and invoice.number == result.invoice.number
    assert Order.objects.get().number == order.number

    # a report download (CSV), read by the generated code
    csv_text = api["reports_run"].sync(
        client=client, body=m.RunInRequest(type_=m.TypeEnum.PURCHASES, format_=m.FormatEnum.CSV)
    )
    assert isinstance(csv_text, str), csv_text
    assert order.number in csv_text and "ana@acme.test" in csv_text
