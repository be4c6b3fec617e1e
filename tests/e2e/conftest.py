"""Browser tests: headless Chromium from Debian (/usr/bin/chromium), driven by pytest-playwright
against pytest-django's live_server."""

import os
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the tests still use the ORM.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("TUITION_CHROMIUM", "/usr/bin/chromium")


def pytest_collection_modifyitems(config, items):  # type: ignore[no-untyped-def]
    if Path(CHROMIUM).exists() or os.environ.get("CI") == "true":
        return
    skip = pytest.mark.skip(reason=f"no Chromium at {CHROMIUM}")
    for item in items:
        if "e2e" in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):  # type: ignore[no-untyped-def]
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


# --- helpers shared by the browser journeys ------------------------------------------------------

AXE_SCRIPT = Path(__file__).parent / "vendor" / "axe.min.js"


@pytest.fixture
def sign_in():  # type: ignore[no-untyped-def]
    """Sign a user in for a Playwright page without typing (the session cookie of a test
    client login), so a journey starts where it matters."""
    from django.conf import settings
    from django.test import Client

    def _sign_in(page, live_server, user):  # type: ignore[no-untyped-def]
        client = Client()
        client.force_login(user)
        page.context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                    "url": live_server.url,
                }
            ]
        )
        return page

    return _sign_in


@pytest.fixture
def axe_violations():  # type: ignore[no-untyped-def]
    """Run axe-core on the current page; returns its violations of the given impacts.

    The pages' CSP refuses inline scripts, so the script tag is injected in a context opened
    with `bypass_csp` when the page's own context does not allow it (see `axe_page`)."""

    def _run(page, impacts=("serious", "critical")):  # type: ignore[no-untyped-def]
        page.add_script_tag(path=str(AXE_SCRIPT))
        result = page.evaluate("async () => await axe.run(document)")
        return [
            {
                "id": v["id"],
                "impact": v["impact"],
                "help": v["help"],
                "nodes": [n["target"] for n in v["nodes"]][:5],
            }
            for v in result["violations"]
            if v["impact"] in impacts
        ]

    return _run


@pytest.fixture
def axe_page(browser):  # type: ignore[no-untyped-def]
    """A page whose context bypasses CSP, so axe-core can be injected as a script tag."""
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def csp_violations(page):  # type: ignore[no-untyped-def]
    """Console messages about Content Security Policy violations on `page`."""
    found: list[str] = []
    page.on(
        "console",
        lambda message: (
            found.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return found
