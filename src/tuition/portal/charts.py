"""Geometry for the small server-rendered SVG charts of the owner pages (no JavaScript)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    label: str
    value_label: str
    x: float
    y: float
    width: float
    height: float
    text_x: float
    text_y: float


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    baseline: float = 0.0


def horizontal_bars(
    rows: list[tuple[str, int, str]],
    *,
    width: int = 640,
    row_height: int = 28,
    label_width: int = 200,
) -> Chart:
    """One bar per row of (label, value, value_label), longest bar = the largest value."""
    largest = max((value for _, value, _ in rows), default=0) or 1
    track = width - label_width - 90
    bars = []
    for index, (label, value, value_label) in enumerate(rows):
        y = index * row_height + 4
        length = max(track * value / largest, 2 if value else 0)
        bars.append(
            Bar(
                label,
                value_label,
                label_width,
                y,
                round(length, 1),
                row_height - 10,
                round(label_width + length + 6, 1),
                y + row_height / 2,
            )
        )
    return Chart(width, max(len(rows), 1) * row_height + 8, bars)


def columns(rows: list[tuple[str, int, str]], *, width: int = 640, height: int = 220) -> Chart:
    """One column per row of (label, value, value_label), e.g. one per month."""
    largest = max((value for _, value, _ in rows), default=0) or 1
    plot_top, plot_bottom = 24, height - 28
    slot = width / max(len(rows), 1)
    bars = []
    for index, (label, value, value_label) in enumerate(rows):
        tall = (plot_bottom - plot_top) * value / largest
        tall = max(tall, 2 if value else 0)
        x = index * slot + slot * 0.15
        bars.append(
            Bar(
                label,
                value_label,
                round(x, 1),
                round(plot_bottom - tall, 1),
                round(slot * 0.7, 1),
                round(tall, 1),
                round(index * slot + slot / 2, 1),
                round(plot_bottom - tall - 6, 1),
            )
        )
    return Chart(width, height, bars, baseline=plot_bottom)
