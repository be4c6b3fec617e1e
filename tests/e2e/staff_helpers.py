"""Shared by the staff journeys: screenshots at desktop and phone width, kept as test
artefacts under artifacts/screenshots/ (ignored by git)."""

from pathlib import Path

SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
WIDTHS = (1366, 390)


def shoot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """Screenshot the page at 1366 and 390 px wide (full page), then return to 1366."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})


def no_horizontal_overflow(page) -> bool:  # type: ignore[no-untyped-def]
    """Nothing wider than the window except inside a scrolling table box."""
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
