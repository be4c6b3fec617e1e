"""Production: secrets from the environment, HTTPS only (HSTS, SSL redirect, secure cookies),
hashed static files, JSON logs. `tuition check --deploy` is clean with deploy/tuition.env."""

from tuition.core.observability import logging_config

from .base import *  # noqa: F403
from .base import LOG_FORMAT, env

DEBUG = False
SECRET_KEY = env.str("SECRET_KEY")
# Rotating: the new key in SECRET_KEY, the old one here until sessions and reset links expire.
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])

# nginx terminates TLS and says so in X-Forwarded-Proto (it overwrites what a client sends).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# Health checks and Prometheus may ask a web process directly over HTTP on a private network.
SECURE_REDIRECT_EXEMPT = [r"^health/", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
if not SECURE_HSTS_PRELOAD:
    # Asking browsers to preload HSTS commits the whole domain, forever in practice: that is the
    # domain owner's decision (set SECURE_HSTS_PRELOAD=true), not a default of this application.
    SILENCED_SYSTEM_CHECKS = ["security.W021"]
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
SESSION_COOKIE_HTTPONLY = True

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

LOG_FORMAT = env.str("LOG_FORMAT", default="json")  # noqa: F811
LOGGING = logging_config(level=env.str("LOG_LEVEL", default="INFO"), fmt=LOG_FORMAT)
