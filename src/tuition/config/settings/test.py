"""Settings for the test suite: the same as base, with fast hashing and tasks run in-process."""

import os
import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import DATABASES, env

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Every test run gets its own database, so runs side by side never share one. On SQLite it is
# a file (not memory) so that concurrency tests can open real connections from other processes.
_run = env.str("TUITION_TEST_RUN", default=str(os.getpid()))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": f"/tmp/tuition-test-{_run}.sqlite3"}
else:
    DATABASES["default"]["TEST"] = {"NAME": f"test_tuition_{_run}"}

# The suite logs at WARNING like before; tests that read logs attach their own handler.
from tuition.core.observability import logging_config  # noqa: E402

LOGGING = logging_config(level=env.str("LOG_LEVEL", default="WARNING"), fmt="text")

# Webhook tests deliver to a receiver on loopback, which production refuses (SSRF guard).
from .base import TUITION  # noqa: E402

TUITION = {**TUITION, "WEBHOOKS_ALLOW_PRIVATE": True}

# Static files are served from the apps in tests; an empty STATIC_ROOT keeps WhiteNoise quiet.
STATIC_ROOT = Path(tempfile.gettempdir()) / "tuition-test-static"
STATIC_ROOT.mkdir(exist_ok=True)

# Every reused query (core.reused_queries) is also compiled afresh and compared, so the suite
# shows that reusing a compilation never changes what a read asks.
TUITION_CHECK_REUSED_QUERIES = True
