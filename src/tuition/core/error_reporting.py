"""Optional error reporting to Sentry (or a Sentry-compatible service such as GlitchTip),
switched on by one environment variable, `SENTRY_DSN`.

What leaves the machine is the exception, its stack and the request's method, URL path and
headers minus credentials: no request body (codes and passwords travel there), no cookies, no
user email or IP (`send_default_pii=False`), and the scrubber also blanks any field named like a
code, key, password, secret or token.
"""

import sentry_sdk
from sentry_sdk.integrations.django import DjangoIntegration
from sentry_sdk.scrubber import DEFAULT_DENYLIST, EventScrubber

EXTRA_DENYLIST = ["code", "coupon", "idempotency_key", "idempotency-key", "key", "secret_key"]


def before_send(event: dict, hint: dict) -> dict:
    request = event.get("request")
    if isinstance(request, dict):
        request.pop("data", None)
        request.pop("cookies", None)
        request["query_string"] = ""
    return event


def init_error_reporting(
    *, dsn: str, environment: str, release: str | None, traces_sample_rate: float
) -> None:
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release,
        integrations=[DjangoIntegration()],
        send_default_pii=False,
        max_request_body_size="never",
        event_scrubber=EventScrubber(denylist=[*DEFAULT_DENYLIST, *EXTRA_DENYLIST]),
        before_send=before_send,  # type: ignore[arg-type]
        traces_sample_rate=traces_sample_rate,
    )
