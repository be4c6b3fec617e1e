"""Forecasts: when the balance runs out at the last 90 days' rate, what expires unused, when."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from tests.factories import AccountFactory, issue, usd
from tuition.accounts.forecasts import Expiring, account_forecasts, forecast, project
from tuition.ledger import services as ledger

START = datetime(2027, 1, 1, 12, 0, tzinfo=UTC)


def at(days: int) -> datetime:
    return START + timedelta(days=days)


def test_no_usage_never_runs_out_but_expiring_value_is_shown():
    # given two lots, one expiring on 1 March, none used lately
    result = project(lots=[(5000, at(59)), (7000, None)], usage=0, start=START)
    # then
    assert result.runs_out_on is None
    assert result.expiring == [Expiring(date(2027, 3, 1), 5000)]


def test_runs_out_at_the_recent_rate_without_expiry():
    # 90.00 used in 90 days = 1.00 a day; 30.00 left lasts 30 days
    result = project(lots=[(3000, None)], usage=9000, start=START)
    assert result.runs_out_on == date(2027, 1, 31)
    assert result.expiring == []
    assert result.points[0] == (date(2027, 1, 1), 3000)
    assert result.points[-1] == (date(2027, 1, 31), 0)


def test_soonest_expiring_is_spent_first_and_the_rest_expires_unused():
    # 1.00 a day; lot A 20.00 expires in 10 days, lot B 20.00 in 40 days, lot C 50.00 never
    lots = [(2000, at(10)), (2000, at(40)), (5000, None)]
    result = project(lots=lots, usage=9000, start=START)
    # A: 10 days use 10.00 of it, 10.00 expires on 11 Jan; B: days 11..40 take 20.00 by
    # day 30, nothing of B expires; C then lasts 50 days from day 31: runs out on day 80
    assert result.expiring == [Expiring(date(2027, 1, 11), 1000)]
    assert result.runs_out_on == date(2027, 3, 22)  # 1 Jan + 80 days
    assert (date(2027, 1, 11), 7000) in result.points  # the expiry's drop: 90 - 10 - 10


def test_several_lots_expiring_the_same_day_are_summed():
    lots = [(1000, at(5)), (3000, at(5) + timedelta(hours=3)), (1000, at(100))]
    result = project(lots=lots, usage=900, start=START)  # 0.10 a day
    # the first lot gives 0.50 in 5 days and expires with 9.50, the second (3 hours later,
    # same day) gives 0.10 and expires with 29.90; the third gives 94 days x 0.10
    assert result.expiring == [
        Expiring(date(2027, 1, 6), 950 + 2990),
        Expiring(date(2027, 4, 11), 60),
    ]
    assert result.runs_out_on == date(2027, 4, 11)  # the last lot expires: nothing left


def test_uneven_rates_are_spread_in_whole_minor_units():
    # 10 tokens in 90 days: one token every 9 days
    result = project(lots=[(3, None)], usage=10, start=START)
    assert result.runs_out_on == date(2027, 1, 28)  # day 27: floor(10*27/90) = 3


@pytest.mark.django_db
def test_forecast_reads_the_last_90_days_net_of_refunds():
    account = AccountFactory()
    with time_machine.travel(at(-120), tick=False):
        lot = issue(account, 100000, days=None)
        ledger.debit(account_id=account.pk, unit=usd(), amount=50000, actor="t")  # too old
    with time_machine.travel(at(-30), tick=False):
        spent = ledger.debit(account_id=account.pk, unit=usd(), amount=20000, actor="t")
        ledger.reverse_part(transfer_id=spent.pk, amount=2000, actor="t")
    with time_machine.travel(at(-10), tick=False):
        expiring = issue(account, 10000, days=20)  # expires on day 10 from START
    # when
    with time_machine.travel(START, tick=False):
        result = forecast(account_id=account.pk, unit=usd())
        listed = account_forecasts(account_id=account.pk)
    # then 180.00 in 90 days = 2.00 a day: 20.00 of the expiring lot is used, 80.00 expires
    assert result.usage == 18000 and result.available == 32000 + 10000
    assert lot.pk and expiring.pk
    assert result.expiring == [Expiring(date(2027, 1, 11), 8000)]
    # 320.00 left in the lot without expiry: 160 days from day 10
    assert result.runs_out_on == date(2027, 1, 11) + timedelta(days=160)
    assert [f.unit.code for f in listed] == ["USD"] and listed[0] == result
