"""Geometry for the small server-rendered SVG charts of the owner and staff pages (no
JavaScript)."""

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


@dataclass(frozen=True)
class LinePoint:
    x: float
    y: float


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    path: str  # an SVG path through the points (vertical drops where the value falls at once)
    area: str  # the same path closed down to the baseline, for a light fill
    baseline: float
    top: float
    ticks: list[Tick]
    marks: list[Bar]  # labelled drops (e.g. expiries): x, y and their label
    start_x: float = 0.0  # where to write the starting value
    start_y: float = 0.0


def line(
    points: list[tuple[int, int]],
    *,
    ticks: list[tuple[int, str]] = (),  # type: ignore[assignment]
    marks: list[tuple[int, int, str]] = (),  # type: ignore[assignment]
    width: int = 640,
    height: int = 220,
) -> LineChart:
    """A line over (x, value) points with x in any integer scale (e.g. days from today), the
    largest value at the top; `ticks` label the x axis, `marks` (x, value, label) call out drops."""
    left, right, top, bottom = 8, width - 8, 16, height - 28
    span = max((x for x, _ in points), default=1) or 1
    largest = max((v for _, v in points), default=0) or 1

    def at(x: int, value: int) -> tuple[float, float]:
        return (
            round(left + (right - left) * x / span, 1),
            round(bottom - (bottom - top) * value / largest, 1),
        )

    path = []
    for index, (x, value) in enumerate(points):
        px, py = at(x, value)
        path.append(f"{'M' if index == 0 else 'L'}{px},{py}")
    joined = " ".join(path)
    area = f"{joined} L{at(points[-1][0], 0)[0]},{bottom} L{left},{bottom} Z" if points else ""
    return LineChart(
        width,
        height,
        joined,
        area,
        bottom,
        top,
        [Tick(at(x, 0)[0], label) for x, label in ticks],
        [Bar(label, label, *at(x, v), 0, 0, *at(x, v)) for x, v, label in marks],
        start_x=left + 10,
        start_y=top + 22,
    )
