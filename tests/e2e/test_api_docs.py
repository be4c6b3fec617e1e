"""The API docs render offline under the site's strict CSP: every asset comes from this site."""

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_api_docs_render_with_no_csp_violation_and_no_outside_request(
    page: Page, live_server, csp_violations
):
    # given: every request the page makes is recorded
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    # when
    response = page.goto(f"{live_server.url}/api/docs/")
    # then: the operations of the schema are on the page
    assert response is not None and response.ok
    assert "script-src" in response.headers["content-security-policy"]
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Tuition API")
    expect(page.locator("#operations-credits-credits_create")).to_be_visible()
    expect(page.locator("#operations-checkout-checkout_create")).to_be_visible()
    page.locator("#operations-checkout-checkout_create .opblock-summary").click()
    expect(page.locator("#operations-checkout-checkout_create")).to_contain_text("Idempotency-Key")
    assert page.locator(".opblock-tag").count() >= 10
    assert csp_violations == []
    assert all(url.startswith(live_server.url) or url.startswith("data:") for url in requests)
