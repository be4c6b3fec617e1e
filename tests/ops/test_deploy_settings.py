import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TUITION = str(Path(sys.executable).parent / "tuition")


def _template() -> dict[str, str]:
    values = {}
    for line in (REPO / "deploy" / "tuition.env").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def _check(tmp_path: Path, **overrides: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "TUITION_"))}
    env.update(_template())
    env.update(
        {"TUITION_HOME": str(tmp_path), "TUITION_DATA_DIR": str(tmp_path / "data"), **overrides}
    )
    return subprocess.run(
        [TUITION, "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_check_deploy_is_clean_with_the_documented_environment(tmp_path):
    # given deploy/tuition.env with its placeholders filled in
    done = _check(
        tmp_path,
        SECRET_KEY="q3Vn1s8yT0-Fz7mWb2Kc_Xr5pLd9hGj4eAu6oNi8ZtYk3QwS1vBx7cRf0mJ2lHd5",
        TUITION_METRICS_TOKEN="9xQ2m7Tz4VbN8kLr",
    )
    # then the deployment check has nothing to say
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout + done.stderr


@pytest.mark.slow
def test_check_deploy_refuses_the_template_placeholders(tmp_path):
    done = _check(tmp_path)
    assert done.returncode == 1
    assert "tuition.E001" in done.stderr and "SECRET_KEY" in done.stderr
    assert "TUITION_METRICS_TOKEN" in done.stderr


@pytest.mark.slow
def test_production_settings_turn_https_on(tmp_path):
    script = (
        "from django.conf import settings as s;"
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS,"
        " s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_PROXY_SSL_HEADER,"
        " s.TUITION['TRUSTED_PROXIES'], s.LOGGING['formatters']['default'])"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "TUITION_"))}
    env.update(_template())
    env["TUITION_DATA_DIR"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {script}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        "True 31536000 True True True ('HTTP_X_FORWARDED_PROTO', 'https') ['127.0.0.1'] "
        "{'()': 'tuition.core.observability.JsonLogFormatter'}"
    )
