"""The forecast as the owner pages show it: per unit, a sentence, the expiring amounts and a
chart of the projected balance (see `accounts.forecasts` for the computation)."""

from dataclasses import dataclass
from datetime import date

from babel.dates import format_date

from tuition.accounts.forecasts import Forecast, account_forecasts
from tuition.core import charts, l10n


@dataclass(frozen=True)
class Panel:
    forecast: Forecast
    chart: charts.LineChart | None
    beyond: date | None  # usage, but no run-out within the horizon: it lasts past this day


def forecast_panels(account_id: int) -> list[Panel]:
    panels = []
    for forecast in account_forecasts(account_id=account_id):
        if not forecast.available and not forecast.usage:
            continue
        beyond = None
        if forecast.usage and forecast.runs_out_on is None and forecast.points:
            beyond = forecast.points[-1][0]
        panels.append(
            Panel(
                forecast=forecast,
                chart=_chart(forecast),
                beyond=beyond,
            )
        )
    return panels


def _chart(forecast: Forecast) -> charts.LineChart | None:
    if not forecast.points or not forecast.available:
        return None
    today = forecast.points[0][0]
    end = forecast.runs_out_on or (forecast.expiring[-1].on if forecast.expiring else None)
    # A year when nothing ends sooner; at least two months, so a near run-out is not cramped.
    if end is None:
        end = date.fromordinal(today.toordinal() + 365)
    elif (end - today).days < 60:
        end = date.fromordinal(today.toordinal() + 60)
    shown = [(d, v) for d, v in forecast.points if d <= end]
    if shown[-1][0] < end and forecast.points[-1][0] > end:
        # carry the line to the chart's end at the balance it has then
        shown.append((end, next(v for d, v in forecast.points if d >= end)))
    elif shown[-1][0] < end:
        shown.append((end, shown[-1][1]))
    span = (end - today).days or 1
    months = _month_ticks(today, end)
    unit = forecast.unit
    return charts.line(
        [((d - today).days, v) for d, v in shown],
        ticks=[((d - today).days, _month_label(d)) for d in months],
        marks=[
            (
                (e.on - today).days,
                _balance_on(shown, e.on),
                "\u2212" + l10n.number(e.amount, decimals=unit.decimals),
            )
            for e in forecast.expiring
            if e.on <= end and (e.on - today).days <= span
        ],
    )


def _balance_on(points: list[tuple[date, int]], day: date) -> int:
    at = [v for d, v in points if d <= day]
    return at[-1] if at else 0


def _month_ticks(start: date, end: date, most: int = 6) -> list[date]:
    firsts = []
    year, month = start.year, start.month
    while True:
        month += 1
        if month > 12:
            year, month = year + 1, 1
        first = date(year, month, 1)
        if first > end:
            break
        firsts.append(first)
    step = max(1, -(-len(firsts) // most))
    return firsts[::step]


def _month_label(day: date) -> str:
    return format_date(day, "MMM yy", locale=l10n.locale_name())
