"""Each report's rows against the hand-computed world of conftest.py."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db.models import Sum

from tests.reports.conftest import T0
from tuition.core.errors import ValidationError
from tuition.ledger.models import Entry, Lot
from tuition.ledger.selectors import get_balances
from tuition.reports import runner
from tuition.reports.runner import account_statement_rows, account_usage_rows


def run(report_type, columns, **filters):  # type: ignore[no-untyped-def]
    spec = runner.prepare(report_type=report_type, columns=columns, filters=filters)
    return [[c.get(row) for c in spec.columns] for row in runner.rows(spec)]


def test_codes_report_lists_every_code_created(world):
    # when
    with time_machine.travel(T0 + timedelta(days=6), tick=False):
        rows = run(
            "codes",
            [
                "code",
                "type",
                "status",
                "account",
                "unit",
                "redeemable_value",
                "remaining",
                "purchase_price",
                "coupon",
                "coupon_discount",
            ],
        )
    # then: four credits, a coupon and a pool code, oldest first
    assert rows == [
        [
            "CREDIT-AAAA",
            "One credit",
            "active",
            "Acme",
            "USD",
            Decimal("500.00"),
            Decimal("200.00"),
            None,
            None,
            "",
        ],
        [
            "CREDIT-BBBB",
            "One credit",
            "active",
            "Acme",
            "USD",
            Decimal("100.00"),
            Decimal("100.00"),
            Decimal("90.00"),
            None,
            "",
        ],
        [
            "TOKENS-CCCC",
            "One credit",
            "active",
            "Acme",
            "TT",
            Decimal("5"),
            Decimal("3"),
            None,
            None,
            "",
        ],
        [
            "CREDIT-DDDD",
            "One credit",
            "active",
            "Beta",
            "USD",
            Decimal("50.00"),
            Decimal("50.00"),
            None,
            None,
            "",
        ],
        ["SPRING10", "Coupon", "active", None, "USD", None, None, None, "Spring", "10 %"],
        ["ACME-POOL", "Account pool", "active", "Acme", "USD", None, None, None, None, ""],
    ]


def test_codes_report_filters_by_account_unit_and_status(world):
    assert [r[0] for r in run("codes", ["code"], account=str(world.beta.pk))] == ["CREDIT-DDDD"]
    assert [r[0] for r in run("codes", ["code"], unit="TT")] == ["TOKENS-CCCC"]
    with time_machine.travel(T0 + timedelta(days=25), tick=False):
        expired = run("codes", ["code"], status="expired")
    assert [r[0] for r in expired] == ["CREDIT-AAAA"]


def test_purchases_report_has_every_order(world):
    rows = run(
        "purchases",
        [
            "number",
            "learner_email",
            "account",
            "title",
            "method",
            "status",
            "list_price",
            "unit",
            "discount",
            "amount",
            "refunded",
        ],
    )
    numbers = [o.number for o in world.orders.values()]
    assert [r[0] for r in rows] == numbers
    assert [r[1:] for r in rows] == [
        [
            "ana@acme.test",
            "Acme",
            "Cloud",
            "Training credit",
            "Paid",
            Decimal("300.00"),
            "USD",
            Decimal("0.00"),
            Decimal("300.00"),
            "no",
        ],
        [
            "bob@else.test",
            None,
            "Cloud",
            "Card",
            "Paid",
            Decimal("300.00"),
            "USD",
            Decimal("30.00"),
            Decimal("270.00"),
            "no",
        ],
        [
            "ana@acme.test",
            "Acme",
            "Data",
            "Tokens",
            "Paid",
            Decimal("200.00"),
            "TT",
            Decimal("0"),
            Decimal("2"),
            "no",
        ],
        [
            "carl@else.test",
            "Acme",
            "Ops",
            "Training credit",
            world.orders["ops"].get_status_display(),
            Decimal("150.00"),
            "USD",
            Decimal("0.00"),
            Decimal("150.00"),
            "yes",
        ],
    ]


def test_purchases_report_filters_by_date_method_unit_and_item(world):
    day = (T0 + timedelta(days=2)).date().isoformat()
    assert len(run("purchases", ["number"], **{"from": day, "to": day})) == 1
    assert len(run("purchases", ["number"], unit="TT")) == 1
    ops = world.orders["ops"]
    assert run("purchases", ["number"], item=f"activity:{ops.activity_id}") == [[ops.number]]


def test_usage_report_is_spend_per_member_per_account_and_unit(world):
    rows = run(
        "usage", ["account", "member_email", "role", "unit", "orders", "spent", "refunded", "net"]
    )
    assert rows == [
        ["Acme", "ana@acme.test", "member", "TT", 1, Decimal("2"), Decimal("0"), Decimal("2")],
        [
            "Acme",
            "ana@acme.test",
            "member",
            "USD",
            1,
            Decimal("300.00"),
            Decimal("0.00"),
            Decimal("300.00"),
        ],
        [
            "Acme",
            "carl@else.test",
            "not a member",
            "USD",
            1,
            Decimal("150.00"),
            Decimal("150.00"),
            Decimal("0.00"),
        ],
    ]


def test_ledger_report_lists_every_entry_and_sums_to_zero(world):
    rows = run("ledger", ["kind", "lot_id", "system_account", "amount", "unit"])
    # 4 issues, 3 redemptions and 1 refund, two legs each
    assert len(rows) == Entry.objects.count() == 16
    for unit in ("USD", "TT"):
        assert sum(r[3] for r in rows if r[4] == unit) == 0
    lot_a = world.lots["a"]
    assert [r[:4] for r in rows if r[1] == lot_a.pk] == [
        ["issue", lot_a.pk, None, Decimal("500.00")],
        ["redeem", lot_a.pk, None, Decimal("-300.00")],
        ["redeem", lot_a.pk, None, Decimal("-150.00")],
        ["reverse", lot_a.pk, None, Decimal("150.00")],
    ]
    assert len(run("ledger", ["kind"], kind="reverse")) == 2
    assert len(run("ledger", ["kind"], account=str(world.beta.pk))) == 2


LIABILITY_COLUMNS = [
    "account",
    "unit",
    "outstanding",
    "lots",
    "expiring_30",
    "expiring_90",
    "expiring_365",
    "expiring_later",
    "never_expires",
    "expired_unswept",
]


def test_liability_at_a_date_buckets_what_expires_when(world):
    # at the end of day 1: lot A 200.00 (expires in 19 days), B 100.00 (199 days), C 5 TT
    # (never), D 50.00 (399 days); the token redemption (day 3) has not happened yet
    rows = run("liability", LIABILITY_COLUMNS, at=(T0 + timedelta(days=1)).date().isoformat())
    assert rows == [
        [
            "Acme",
            "TT",
            Decimal("5"),
            1,
            Decimal("0"),
            Decimal("0"),
            Decimal("0"),
            Decimal("0"),
            Decimal("5"),
            Decimal("0"),
        ],
        [
            "Acme",
            "USD",
            Decimal("300.00"),
            2,
            Decimal("200.00"),
            Decimal("0.00"),
            Decimal("100.00"),
            Decimal("0.00"),
            Decimal("0.00"),
            Decimal("0.00"),
        ],
        [
            "Beta",
            "USD",
            Decimal("50.00"),
            1,
            Decimal("0.00"),
            Decimal("0.00"),
            Decimal("0.00"),
            Decimal("50.00"),
            Decimal("0.00"),
            Decimal("0.00"),
        ],
    ]


def test_liability_leaves_out_expired_lots_even_before_the_sweep(world):
    rows = run(
        "liability",
        LIABILITY_COLUMNS,
        at=(T0 + timedelta(days=25)).date().isoformat(),
        account=str(world.acme.pk),
        unit="USD",
    )
    assert rows == [
        [
            "Acme",
            "USD",
            Decimal("100.00"),
            1,
            Decimal("0.00"),
            Decimal("0.00"),
            Decimal("100.00"),
            Decimal("0.00"),
            Decimal("0.00"),
            Decimal("200.00"),
        ]
    ]


@pytest.mark.parametrize("days", [0.5, 1, 3.5, 4.5, 6, 21, 250, 500])
def test_liability_equals_the_ledger_balances(world, days):
    # given: an instant; the ledger's own answer is the sum of lot entries booked up to it,
    # for lots not expired at it
    at = T0 + timedelta(days=days)
    expected = {}
    for lot in Lot.objects.select_related("account", "unit"):
        if lot.expires_at is not None and lot.expires_at <= at:
            continue
        booked = lot.entries.filter(transfer__created_at__lte=at).aggregate(s=Sum("amount"))["s"]
        if booked:
            key = (lot.account.name, lot.unit.code)
            expected[key] = expected.get(key, 0) + booked
    # when
    rows = run("liability", ["account", "unit", "outstanding"], at=at.isoformat())
    # then
    got = {(r[0], r[1]): r[2] for r in rows if r[2]}
    assert got == {k: Decimal(v).scaleb(-(0 if k[1] == "TT" else 2)) for k, v in expected.items()}


def test_liability_now_equals_current_balances(world):
    with time_machine.travel(T0 + timedelta(days=6), tick=False):
        rows = run("liability", ["account_id", "unit", "outstanding", "inactive"])
        for account in (world.acme, world.beta):
            for balance in get_balances(account_id=account.pk):
                line = next(r for r in rows if r[0] == account.pk and r[1] == balance.unit.code)
                total = balance.available + balance.inactive
                assert line[2] == Decimal(total).scaleb(-balance.unit.decimals)


def test_statement_has_a_running_balance_and_an_opening_balance(world):
    # when: from day 2 on
    rows = list(account_statement_rows(world.acme.pk, (T0 + timedelta(days=2)).date()))
    # then: opening balances carried in, then the token redemption, the pool redemption and
    # its refund
    assert [(r["kind"], r["unit"], r["amount"], r["balance"]) for r in rows] == [
        ("opening", "TT", None, Decimal("5")),
        ("opening", "USD", None, Decimal("300.00")),
        ("redeem", "TT", Decimal("-2"), Decimal("3")),
        ("redeem", "USD", Decimal("-150.00"), Decimal("150.00")),
        ("reverse", "USD", Decimal("150.00"), Decimal("300.00")),
    ]
    assert rows[3]["order"] == world.orders["ops"].number
    assert rows[3]["learner_email"] == "carl@else.test"


def test_usage_rows_for_one_account(world):
    rows = list(account_usage_rows(world.beta.pk))
    assert rows == []
    rows = list(account_usage_rows(world.acme.pk))
    assert [(r["member_email"], r["unit"], r["net"]) for r in rows] == [
        ("ana@acme.test", "TT", Decimal("2")),
        ("ana@acme.test", "USD", Decimal("300.00")),
        ("carl@else.test", "USD", Decimal("0.00")),
    ]


@pytest.mark.parametrize(
    "bad",
    [
        {"columns": ["nope"]},
        {"columns": ["date", "date"]},
        {"columns": "date"},
        {"filters": {"colour": "red"}},
        {"filters": {"at": "2026-01-01"}},
        {"filters": {"from": "2026-02-30"}},
        {"filters": {"from": "2026-03-02", "to": "2026-03-01"}},
        {"filters": {"from": "2026-01-01T00:00:00"}},
        {"filters": {"account": "x1"}},
        {"filters": {"unit": "NOPE"}},
        {"filters": {"status": "gone"}},
        {"filters": {"item": "course:1"}},
        {"format": "pdf"},
        {"type": "secret"},
        {"type": "statement"},
    ],
)
def test_bad_requests_are_validation_errors(db, bad):
    request = {"type": "purchases", "columns": None, "filters": {}, "format": "csv", **bad}
    with pytest.raises(ValidationError):
        runner.prepare(
            report_type=request["type"],
            columns=request["columns"],
            filters=request["filters"],
            format=request["format"],
        )


def test_liability_counts_value_held_for_approval_as_outstanding(world):
    # given: at day 30 a redemption of 200.00 from Acme's long credit waits for approval
    from tests.factories import make_credit
    from tuition.catalog.models import Activity
    from tuition.checkout import approvals
    from tuition.checkout import services as checkout
    from tuition.checkout.services import PaymentChoice

    with time_machine.travel(T0 + timedelta(days=30), tick=False):
        make_credit(world.acme, 30000, days=200, code="CREDIT-HOLD")
        before = run(
            "liability",
            ["account", "unit", "outstanding", "held"],
            account=str(world.acme.pk),
            unit="USD",
        )
        approvals.set_rules(
            account_id=world.acme.pk, above={"USD": 0}, items=[], hold_hours=24, actor="t"
        )
        waiting = checkout.checkout(
            learner_email="new@acme.test",
            activity_id=Activity.objects.get(title="Data").pk,
            payment=PaymentChoice(method="code", code="CREDIT-HOLD"),
            actor="t",
        )

        # when
        after = run(
            "liability",
            ["account", "unit", "outstanding", "held"],
            account=str(world.acme.pk),
            unit="USD",
        )

    # then: the outstanding value is unchanged, and the held part is shown
    assert isinstance(waiting, approvals.AwaitingApproval)
    assert after[0][2] == before[0][2] and before[0][3] == Decimal("0.00")
    assert after[0][3] == Decimal("200.00")
