import os
import subprocess
import sys

from sentry_sdk.scrubber import DEFAULT_DENYLIST, EventScrubber

from tuition.core.error_reporting import EXTRA_DENYLIST, before_send


def test_what_would_leave_for_sentry_has_no_body_query_cookies_or_codes():
    # given an event as the Django integration builds it
    event = {
        "request": {
            "method": "POST",
            "url": "https://tuition.example.org/api/v1/checkout",
            "query_string": "code=7KQ2-M9XD-T4HB-PW3C",
            "data": {"payment": {"code": "7KQ2-M9XD-T4HB-PW3C"}},
            "cookies": {"sessionid": "abc"},
            "headers": {"Authorization": "Api-Key pre.secret", "Idempotency-Key": "k1"},
        },
        "extra": {"code": "7KQ2-M9XD-T4HB-PW3C", "secret_key": "s"},
    }
    # when it is scrubbed and passed through before_send
    EventScrubber(denylist=[*DEFAULT_DENYLIST, *EXTRA_DENYLIST]).scrub_event(event)
    sent = before_send(event, {})
    # then nothing secret is left
    text = repr(sent)
    for secret in ("7KQ2", "pre.secret", "sessionid", "abc", "k1"):
        assert secret not in text, secret
    assert sent["request"]["method"] == "POST"
    assert sent["request"]["url"].endswith("/api/v1/checkout")


def test_error_reporting_is_on_only_with_a_dsn(tmp_path):
    script = "import django, sentry_sdk; django.setup(); print(sentry_sdk.get_client().is_active())"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTRY")}
    env["TUITION_DATA_DIR"] = str(tmp_path)
    env["DJANGO_SETTINGS_MODULE"] = "tuition.config.settings.base"
    off = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    on = subprocess.run(
        [sys.executable, "-c", script],
        env={**env, "SENTRY_DSN": "https://public@sentry.invalid/1"},
        capture_output=True,
        text=True,
    )
    assert (off.stdout.strip(), on.stdout.strip()) == ("False", "True"), off.stderr + on.stderr
