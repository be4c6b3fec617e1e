"""Settings shared by every environment; what differs comes from environment variables."""

from pathlib import Path

import environ

env = environ.Env()

# The working directory of the service: ./data holds the embedded SQLite database.
BASE_DIR = Path(env.str("TUITION_HOME", default=str(Path.cwd())))
DATA_DIR = Path(env.str("TUITION_DATA_DIR", default=str(BASE_DIR / "data")))

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="insecure-development-key-set-SECRET_KEY-in-production")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # The staff area: its templates first, then Django's admin serving the staff site.
    "tuition.staff",
    "tuition.staff.apps.StaffAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework_api_key",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_htmx",
    "simple_history",
    "import_export",
    "django_tasks_db",
    "allauth",
    "allauth.account",
    "tuition.core",
    "tuition.accounts",
    "tuition.ledger",
    "tuition.catalog",
    "tuition.codes",
    "tuition.checkout",
    "tuition.notifications",
    "tuition.autorefills",
    "tuition.reports",
    "tuition.api",
    "tuition.portal",
    "tuition.ops",
    "tuition.privacy",
]

MIDDLEWARE = [
    # Outermost: the request id, the one log line and the metrics see every answer.
    "tuition.ops.middleware.RequestObservabilityMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "tuition.api.middleware.ApiErrorEnvelopeMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Innermost, so it sees a view's database error first: an outage is a 503, never a 500.
    "tuition.core.middleware.DatabaseOutageMiddleware",
]

ROOT_URLCONF = "tuition.config.urls"
WSGI_APPLICATION = "tuition.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # The portal's templates come first so its allauth overrides win over allauth's own.
        "DIRS": [Path(__file__).resolve().parents[2] / "portal" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "tuition.core.context_processors.branding",
                "tuition.portal.context.navigation",
            ],
        },
    },
]


def database_from_env() -> dict:
    """The database from DATABASE_URL, or the embedded SQLite file under ./data/."""
    url = env.str("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'tuition.sqlite3'}")
    config = env.db_url_config(url)
    if config["ENGINE"] == "django.db.backends.sqlite3":
        Path(config["NAME"]).parent.mkdir(parents=True, exist_ok=True)
        # IMMEDIATE takes the write lock when a transaction starts, so two writers never
        # both read and then fail to upgrade; WAL lets readers run beside the one writer.
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": env.int("SQLITE_BUSY_TIMEOUT", default=20),
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            ),
        }
    else:
        config.setdefault("OPTIONS", {})
        if env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
            # Parameters bound by the server, and a statement run five times on a connection
            # is prepared: PostgreSQL stops planning it anew, which was a third of a
            # checkout's time in the database (ADR 0012). Turn off behind a pooler in
            # transaction mode that cannot keep prepared statements.
            config["OPTIONS"].update(server_side_binding=True, prepare_threshold=5)
        if env.bool("DATABASE_POOL", default=False):
            config["OPTIONS"]["pool"] = {
                "min_size": 2,
                "max_size": env.int("DATABASE_POOL_SIZE", default=8),
                "timeout": 10,
            }
        else:
            config["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
            config["CONN_HEALTH_CHECKS"] = True
    return config


DATABASES = {"default": database_from_env()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": env.cache_url("CACHE_URL", default="dbcache://tuition_cache"),
}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"

ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = env.str("ACCOUNT_EMAIL_VERIFICATION", default="optional")
ACCOUNT_LOGOUT_ON_GET = False
# Login and sign-up rate limits key on the real client IP behind trusted proxies; staff land on
# the staff home after signing in.
ACCOUNT_ADAPTER = "tuition.core.auth_adapter.AccountAdapter"

LANGUAGE_CODE = "en-us"
# Dates and times with their zone on every page that prints one without a format.
FORMAT_MODULE_PATH = ["tuition.core.formats"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = DATA_DIR / "media"


def mailer_from_env() -> dict:
    """The default mailer from EMAIL_URL (smtp://user:pass@host:25, consolemail://, ...)."""
    config = env.email_url("EMAIL_URL", default="consolemail://")
    options = {
        "host": config.get("EMAIL_HOST"),
        "port": config.get("EMAIL_PORT"),
        "username": config.get("EMAIL_HOST_USER"),
        "password": config.get("EMAIL_HOST_PASSWORD"),
        "use_tls": config.get("EMAIL_USE_TLS"),
        "use_ssl": config.get("EMAIL_USE_SSL"),
        "timeout": env.int("EMAIL_TIMEOUT", default=10),
    }
    backend = config["EMAIL_BACKEND"]
    if not backend.endswith("smtp.EmailBackend"):
        options = {}
    return {
        "BACKEND": backend,
        "OPTIONS": {k: v for k, v in options.items() if v not in (None, "")},
    }


MAILERS = {"default": mailer_from_env()}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Tuition <no-reply@tuition.invalid>")

TASKS = {
    "default": {
        "BACKEND": env.str("TASKS_BACKEND", default="django_tasks_db.DatabaseBackend"),
    }
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "tuition.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["tuition.api.parsers.StrictJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "tuition.api.pagination.CursorlessPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "tuition.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "tuition.api.schema.TuitionAutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Tuition API",
    "DESCRIPTION": (
        "Prepaid training credits and tokens: issue, redeem at checkout, report.\n\n"
        "Conventions: JSON bodies; **ids are opaque strings** (never parse them or assume "
        'they are numbers); money is `{"amount": "300.00", "unit": "USD"}` in '
        "answers, amounts you send are decimal strings in the unit's precision; times are ISO "
        "8601 with an offset. Lists are pages of `results` with `count`, `next` and "
        "`previous`, driven by `page` and `page_size`. Unknown fields and query parameters are "
        'refused. Every refusal is `{"error": {"code", "message", "details"}}` '
        "with a `code` from the `ErrorCodeEnum`. Writes that move value need an "
        "`Idempotency-Key`. Changes and the versioning policy: docs/api-changelog.md."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # PATCH bodies say which fields they require (e.g. a code's `status`), like POST bodies.
    "COMPONENT_SPLIT_PATCH": False,
    # Choice sets several serializers share get one stable name in the document.
    "ENUM_NAME_OVERRIDES": {
        "ActivityKindEnum": ["course", "certification", "event"],
        "ActiveStatusEnum": ["active", "inactive"],
        "ItemKindEnum": ["activity", "group"],
        "ErrorCodeEnum": "tuition.api.errors.ERROR_CODES",
        "CouponScopeKindEnum": ["activity", "group", "any"],
        "ScopeKindEnum": "tuition.ledger.models.Lot.ScopeKind",
        "TransferKindEnum": "tuition.ledger.models.Transfer.Kind",
        "AutomaticRefillKindEnum": ["threshold", "allowance"],
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "tuition.api.schema.strict_request_bodies",
        "tuition.api.schema.operation_examples",
    ],
    # The docs page serves its own assets (no CDN: the CSP allows only this site).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"validatorUrl": None, "deepLinking": True},
}

# Uploads and request bodies: a JSON body larger than this is refused with 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=256 * 1024)

from django.utils.csp import CSP  # noqa: E402

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "frame-ancestors": [CSP.NONE],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Product settings.
TUITION = {
    "PROVIDER_NAME": env.str("TUITION_PROVIDER_NAME", default="Northwind Training"),
    # Where people reach the site: the links in emails (My learning, sign in, set a password).
    "SITE_URL": env.str("TUITION_SITE_URL", default="http://localhost:8000"),
    "COMMERCE_ENABLED": env.bool("TUITION_COMMERCE_ENABLED", default=True),
    # Pay by tokens (the Arlo setting): token codes are refused at checkout when off. On by
    # default, so an installation that already sold tokens keeps honouring them.
    "PAY_BY_TOKENS": env.bool("TUITION_PAY_BY_TOKENS", default=True),
    "DEFAULT_EXPIRY_DAYS": env.int("TUITION_DEFAULT_EXPIRY_DAYS", default=365),
    # Export files built by the worker are deleted this many days after they were finished.
    "EXPORT_RETENTION_DAYS": env.int("TUITION_EXPORT_RETENTION_DAYS", default=30),
    "SERVICE_RETRY_ATTEMPTS": env.int("TUITION_SERVICE_RETRY_ATTEMPTS", default=5),
    # Notifications and webhooks (see docs/operations.md).
    "WEBHOOKS_ALLOW_PRIVATE": env.bool("TUITION_WEBHOOKS_ALLOW_PRIVATE", default=False),
    "WEBHOOK_TIMEOUT_SECONDS": env.float("TUITION_WEBHOOK_TIMEOUT_SECONDS", default=10.0),
    "EXPIRY_REMINDER_DAYS": [
        int(d) for d in env.list("TUITION_EXPIRY_REMINDER_DAYS", default=["30", "7"])
    ],
    "DELIVERY_MAX_ATTEMPTS": env.int("TUITION_DELIVERY_MAX_ATTEMPTS", default=8),
    "DELIVERY_BACKOFF_SECONDS": env.float("TUITION_DELIVERY_BACKOFF_SECONDS", default=30.0),
    "DELIVERY_LEASE_SECONDS": env.float("TUITION_DELIVERY_LEASE_SECONDS", default=300.0),
    "PERIODIC_TICK_SECONDS": env.float("TUITION_PERIODIC_TICK_SECONDS", default=15.0),
    # Job intervals in seconds, e.g. "retry_stuck_deliveries=60,expire_credits=60".
    "PERIODIC_INTERVALS": env.dict("TUITION_PERIODIC_INTERVALS", cast={"value": int}, default={}),
    # How long an Idempotency-Key claim holds before a retry takes over a dead request.
    # Reverse proxies whose X-Forwarded-For (and X-Request-ID) are believed: IPs or CIDRs.
    "TRUSTED_PROXIES": env.list("TUITION_TRUSTED_PROXIES", default=[]),
    # /metrics answers only with `Authorization: Bearer <token>`; empty turns it off (404).
    "METRICS_TOKEN": env.str("TUITION_METRICS_TOKEN", default=""),
    # Readiness (/health/ready) thresholds; see docs/operations.md.
    "WORKER_HEARTBEAT_SECONDS": env.float("TUITION_WORKER_HEARTBEAT_SECONDS", default=10.0),
    "READY_HEARTBEAT_SECONDS": env.float("TUITION_READY_HEARTBEAT_SECONDS", default=60.0),
    "READY_QUEUE_LAG_SECONDS": env.float("TUITION_READY_QUEUE_LAG_SECONDS", default=300.0),
    "READY_MAX_DEAD_DELIVERIES": env.int("TUITION_READY_MAX_DEAD_DELIVERIES", default=10),
}

# --- Documents and languages (receipts, invoices, credit notes; translations) -------------
# The provider's legal details printed on every document. ADDRESS takes lines separated by
# ";" or newlines; LOGO is the path of a PNG or JPEG file.
TUITION_LEGAL = {
    "NAME": env.str("TUITION_LEGAL_NAME", default=""),
    "ADDRESS": env.str("TUITION_LEGAL_ADDRESS", default=""),
    "TAX_ID": env.str("TUITION_TAX_ID", default=""),
    "LOGO": env.str("TUITION_LOGO_PATH", default=""),
    "FOOTER": env.str("TUITION_DOCUMENT_FOOTER", default=""),
    # A TrueType font for PDFs, for names beyond Western European letters (optional).
    "PDF_FONT": env.str("TUITION_PDF_FONT", default=""),
}
# Pages, emails and documents speak the person's language (their profile), else the browser's.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("es", "Español")]
LOCALE_PATHS = [Path(__file__).resolve().parents[2] / "locale"]
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.common.CommonMiddleware"),
    "django.middleware.locale.LocaleMiddleware",
)
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "tuition.core.languages.PersonLanguageMiddleware",
)
# --- end of documents and languages -------------------------------------------------------

from tuition.core.observability import logging_config  # noqa: E402

# JSON lines in production (prod.py), readable text in development; every line has request_id.
LOG_FORMAT = env.str("LOG_FORMAT", default="text")
LOGGING = logging_config(level=env.str("LOG_LEVEL", default="INFO"), fmt=LOG_FORMAT)

# Error reporting: set SENTRY_DSN to switch it on (tuition.core.error_reporting says what is sent).
if env.str("SENTRY_DSN", default=""):
    from tuition.core.error_reporting import init_error_reporting

    init_error_reporting(
        dsn=env.str("SENTRY_DSN"),
        environment=env.str("SENTRY_ENVIRONMENT", default="production"),
        release=env.str("SENTRY_RELEASE", default="") or None,
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
    )
