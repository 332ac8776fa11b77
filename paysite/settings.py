"""Paysite settings: read from the environment only.

A git-ignored `.env` in the project root is read when present; variables already in the process
environment win over it. Every variable is listed with a comment in `.env.example`.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent.parent
# PAYSITE_ENV_FILE names another file; empty means read none (the test suite does that).
ENV_FILE = os.environ.get("PAYSITE_ENV_FILE", str(BASE_DIR / ".env"))
if ENV_FILE:
    load_dotenv(ENV_FILE, override=False)


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)
VAR_DIR = Path(env("PAYSITE_VAR_DIR", str(BASE_DIR / "var")))

INSECURE_PREFIX = "django-insecure"
SECRET_KEY = env("DJANGO_SECRET_KEY")
FIELD_ENCRYPTION_KEY = env("FIELD_ENCRYPTION_KEY")
FINGERPRINT_KEY = env("FINGERPRINT_KEY")
AUDIT_SIGNING_KEY = env("AUDIT_SIGNING_KEY")


def _require_secrets() -> None:
    """Production refuses to start with a missing or insecure secret."""
    problems = []
    if not SECRET_KEY or SECRET_KEY.startswith(INSECURE_PREFIX) or len(SECRET_KEY) < 50:
        problems.append("DJANGO_SECRET_KEY must be set to 50 or more random characters")
    for name, value in (
        ("FIELD_ENCRYPTION_KEY", FIELD_ENCRYPTION_KEY),
        ("FINGERPRINT_KEY", FINGERPRINT_KEY),
        ("AUDIT_SIGNING_KEY", AUDIT_SIGNING_KEY),
    ):
        if len(value) < 32 or value.startswith("dev-"):
            problems.append(f"{name} must be set to 32 or more random characters")
    if problems:
        raise ImproperlyConfigured("Paysite will not start with DJANGO_DEBUG off: " + "; ".join(problems) + ".")


if DEBUG:
    # Development only: stable placeholders so a bare checkout can run `manage.py check`.
    SECRET_KEY = SECRET_KEY or f"{INSECURE_PREFIX}-development-only-key-not-for-production-use"
    FIELD_ENCRYPTION_KEY = FIELD_ENCRYPTION_KEY or "dev-field-encryption-key-not-for-production"
    FINGERPRINT_KEY = FINGERPRINT_KEY or "dev-fingerprint-key-not-for-production-use"
    AUDIT_SIGNING_KEY = AUDIT_SIGNING_KEY or "dev-audit-signing-key-not-for-production-use"
else:
    _require_secrets()

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "django_tasks",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # Bottom up: the core, then each app after the apps it imports, then the project's wiring.
    "core",
    "audit",
    "idempotency",
    "sandbox",
    "apilog",
    "search",
    "merchants",
    "webhooks",
    "customers",
    "payments",
    "disputes",
    "reconciliation",
    "compliance",
    "costs",
    "dashboard",
    "paysite",
    # After the apps: core's `db_worker` (a heartbeat and the stalled-work sweep) extends this one's,
    # and of two commands with one name Django runs the one of the app listed first.
    "django_tasks_db",
]

MIDDLEWARE = [
    "core.middleware.RequestIdMiddleware",
    "apilog.middleware.ApiRequestLogMiddleware",  # API requests of a key, written after the response
    "django.middleware.security.SecurityMiddleware",
    "paysite.csp.ContentSecurityPolicyMiddleware",
    "core.static_files.LazyWhiteNoiseMiddleware",  # whitenoise, listing the files at the first static request
    "core.middleware.SessionMiddleware",  # Django's, but a poll does not renew the session
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.middleware.IdleSignOutMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "paysite.mfa.StaffMfaMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "core.middleware.SessionExpiryMiddleware",  # no session: htmx goes to sign-in whole, back to its page
    "merchants.middleware.TenancyMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "paysite.urls"
WSGI_APPLICATION = "paysite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],  # every template lives in the app that renders it (<app>/templates/)
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "merchants.tenancy.tenancy_context",
            ],
        },
    }
]

if not env("DATABASE_URL"):
    VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'paysite.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes write to the file (gunicorn workers, the task worker): a transaction takes the
    # write lock when it begins and waits for it, rather than failing with "database is locked" when a
    # read turns into a write; WAL lets readers go on meanwhile. In WAL mode `synchronous=NORMAL`
    # syncs the log at checkpoints rather than at every commit: a crash of the program loses nothing,
    # a power cut may lose the last commits (SQLite is the development database; PostgreSQL serves
    # production).
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": env("REDIS_URL")}
        if env("REDIS_URL")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "paysite"}
    )
}

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# PCI DSS 8.3.4: lock an account out after 10 failures for at least 30 minutes.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 30) / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_LOCKOUT_CALLABLE = "audit.lockout.audit_lockout"  # audits each refused sign-in, then that template
AXES_VERBOSE = False
# Lockout is per account (PCI DSS 8.3.4). Adding the IP address would lock every user behind one
# proxy or NAT out together, so axes' advice to add it (W006) is declined on purpose.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

# PCI DSS 8.2.8: idle sessions end after 15 minutes. Polls (`X-Paysite-Poll: 1`) are not activity: they
# neither renew the session nor reset the idle time (core/middleware.py).
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_MINUTES", 15) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie

SECURE = not DEBUG and env_bool("DJANGO_SECURE", True)
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_SSL_REDIRECT = SECURE and env_bool("DJANGO_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SECURE else None
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000) if SECURE else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_HSTS_PRELOAD = SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Front-end packages come from npm (`npm ci`) and are served as static files, never from a CDN.
NODE_MODULES = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/bulma", NODE_MODULES / "bulma" / "css"),
    ("vendor/chart.js", NODE_MODULES / "chart.js" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": VAR_DIR / "media"}},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

TASKS = {
    "default": {
        "BACKEND": env("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}
# Task workers (core/workers.py): each `db_worker` beats every TASKS_HEARTBEAT_SECONDS; a task whose
# worker has not beaten for TASKS_STALE_SECONDS is queued again, and the periodic chains below (each
# a function queuing its chain's next run unless one waits) are re-armed if their next run was lost.
TASKS_HEARTBEAT_SECONDS = float(env("TASKS_HEARTBEAT_SECONDS", "5"))
TASKS_STALE_SECONDS = float(env("TASKS_STALE_SECONDS", "60"))
TASKS_PERIODIC = [
    "audit.tasks.audit_seal_schedule",
    "payments.tasks.payment_recover_sweep_schedule",
    "payments.tasks.authorization_expiry_sweep_schedule",
    "disputes.tasks.disputes_sweep_schedule",
    "compliance.tasks.compliance_report_schedule",
]

# DynamoDB: leave DYNAMODB_ENDPOINT unset to talk to real AWS with the usual credential chain.
DYNAMODB = {
    "ENDPOINT": env("DYNAMODB_ENDPOINT") or None,
    "REGION": env("DYNAMODB_REGION", "us-east-1"),
    "TABLE_PREFIX": env("DYNAMODB_TABLE_PREFIX", "paysite-"),
    "CONNECT_TIMEOUT": float(env("DYNAMODB_CONNECT_TIMEOUT", "2")),
    "READ_TIMEOUT": float(env("DYNAMODB_READ_TIMEOUT", "5")),
    "MAX_ATTEMPTS": env_int("DYNAMODB_MAX_ATTEMPTS", 4),
    # HTTP connections a client keeps open: one per thread that calls at once (the historical
    # import's write threads times `seed_demo`'s jobs, settling lanes, gthread workers' threads)
    "MAX_POOL_CONNECTIONS": env_int("DYNAMODB_MAX_POOL_CONNECTIONS", 50),
    "DEADLINE": float(env("DYNAMODB_DEADLINE", "10")),
}

# Email (team invites, password resets, webhook endpoint alerts) through Django's email backend: files
# under var/mail/ in development (`make run`), SMTP otherwise; EMAIL_BACKEND overrides either.
EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    "django.core.mail.backends.filebased.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = VAR_DIR / "mail"
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT_SECONDS", 10)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Paysite <no-reply@localhost>")
# A password reset link works once, for this long (Django's default is 3 days).
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT_MINUTES", 60) * 60

API_KEY_PREFIX = env("API_KEY_PREFIX", "sk_test_")
DEFAULT_RATE_LIMIT_PER_MINUTE = env_int("DEFAULT_RATE_LIMIT_PER_MINUTE", 600)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"botocore": {"level": "WARNING"}, "pynamodb": {"level": "WARNING"}},
}
AUDIT_RETENTION_DAYS = max(365, env_int("AUDIT_RETENTION_DAYS", 365))
SANDBOX_TIMEOUT_SECONDS = float(env("SANDBOX_TIMEOUT_SECONDS", "0"))
# The sandbox processor's fee per dispute, in each currency's minor unit (`default`: any other currency).
SANDBOX_DISPUTE_FEE = {
    currency.strip().lower(): int(amount)
    for currency, _, amount in (
        item.partition(":")
        for item in env_list("SANDBOX_DISPUTE_FEE", "usd:1500,eur:1500,gbp:1500,jpy:2000,default:1500")
    )
}
SUMMARY_SHARDS = env_int("SUMMARY_SHARDS", 4)
FIELD_ENCRYPTION_OLD_KEYS = env("FIELD_ENCRYPTION_OLD_KEYS")
# Costs: measured DynamoDB capacity is kept in memory and saved at most this often (seconds; 0: only
# when a cost page is read).
COSTS_CAPACITY_FLUSH_SECONDS = env_int("COSTS_CAPACITY_FLUSH_SECONDS", 60)
# Webhooks: a failed delivery is retried after WEBHOOK_RETRY_BASE_SECONDS, doubling up to
# WEBHOOK_RETRY_MAX_SECONDS, until WEBHOOK_RETRY_WINDOW_HOURS after the event; then it is failed.
WEBHOOK_TIMEOUT_SECONDS = float(env("WEBHOOK_TIMEOUT_SECONDS", "10"))
WEBHOOK_RETRY_BASE_SECONDS = env_int("WEBHOOK_RETRY_BASE_SECONDS", 30)
WEBHOOK_RETRY_MAX_SECONDS = env_int("WEBHOOK_RETRY_MAX_SECONDS", 3600)
WEBHOOK_RETRY_WINDOW_HOURS = env_int("WEBHOOK_RETRY_WINDOW_HOURS", 24)
WEBHOOK_RETENTION_DAYS = env_int("WEBHOOK_RETENTION_DAYS", 30)
# Webhook endpoints must be https on public addresses (checked when saved and when sent). For a
# receiver on a developer's machine, WEBHOOK_ALLOW_PRIVATE_URLS also accepts plain http and loopback or
# private addresses; it follows DJANGO_DEBUG unless set, and `check --deploy` warns while it is on.
WEBHOOK_ALLOW_PRIVATE_URLS = env_bool("WEBHOOK_ALLOW_PRIVATE_URLS", DEBUG)
# How long a process keeps a merchant's webhook endpoints for the events it makes (a payment's event
# then waits for no Query of its own). A change made in the process applies at once; one made
# elsewhere within this many seconds. 0 reads them for every event.
WEBHOOK_ENDPOINTS_CACHE_SECONDS = env_int("WEBHOOK_ENDPOINTS_CACHE_SECONDS", 5)
# The search index (relational) is fed in process after each write; turn this off where the
# SearchIndexer Lambda feeds it from the DynamoDB streams instead.
SEARCH_INDEX_INLINE = env_bool("SEARCH_INDEX_INLINE", True)

# Reconciliation: uploaded settlement files go to the `settlements` storage under server-generated
# names, a local directory by default, an S3 bucket (django-storages) when SETTLEMENT_FILES_BUCKET is set.
SETTLEMENT_FILES_BUCKET = env("SETTLEMENT_FILES_BUCKET")
SETTLEMENT_S3_REGION = env("SETTLEMENT_S3_REGION", env("DYNAMODB_REGION", "us-east-1"))
SETTLEMENT_S3_ENDPOINT = env("SETTLEMENT_S3_ENDPOINT") or None
# How many settling transactions of a chunk are in flight at once (threads, each on its own
# balance counter shard); 1 settles one transaction after the other.
SETTLEMENT_SETTLE_LANES = env_int("SETTLEMENT_SETTLE_LANES", 4)
# Historical imports: how many transactions of payments and their ledger entries are in flight at once.
IMPORT_WRITE_THREADS = env_int("IMPORT_WRITE_THREADS", 4)
STORAGES["settlements"] = (
    {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": SETTLEMENT_FILES_BUCKET,
            "region_name": SETTLEMENT_S3_REGION,
            "endpoint_url": SETTLEMENT_S3_ENDPOINT,
            "default_acl": None,
            "file_overwrite": False,
        },
    }
    if SETTLEMENT_FILES_BUCKET
    else {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": VAR_DIR / "settlements"}}
)
# Idempotency: an in-progress Idempotency-Key record whose request died is taken over after this
# many seconds (it must outlast the slowest processing, processor timeout included).
IDEMPOTENCY_LOCK_SECONDS = env_int("IDEMPOTENCY_LOCK_SECONDS", 60)

# --- Audit integrity, compliance report, MFA, security headers ---------------------------------
# Old audit signing keys (comma-separated) still accepted when verifying seals signed before a rotation.
AUDIT_SIGNING_OLD_KEYS = env("AUDIT_SIGNING_OLD_KEYS")
# Audit anchors (audit/anchors.py): the head of each partition's seal chain, kept outside DynamoDB. In
# the relational database unless AUDIT_ANCHOR_BUCKET names an S3 bucket with Object Lock on (one object
# per seal under AUDIT_ANCHOR_PREFIX). Once a partition is anchored, sealing refuses events older than
# AUDIT_SEAL_GRACE_HOURS, and verification wants each chain to reach the last closed hour less that.
AUDIT_ANCHOR_BUCKET = env("AUDIT_ANCHOR_BUCKET")
AUDIT_ANCHOR_PREFIX = env("AUDIT_ANCHOR_PREFIX", "audit-anchors/")
AUDIT_ANCHOR_S3_REGION = env("AUDIT_ANCHOR_S3_REGION", env("DYNAMODB_REGION", "us-east-1"))
AUDIT_ANCHOR_S3_ENDPOINT = env("AUDIT_ANCHOR_S3_ENDPOINT") or None
AUDIT_SEAL_GRACE_HOURS = max(1, env_int("AUDIT_SEAL_GRACE_HOURS", 24))
# PCI DSS 8.4.1: ops staff must enrol in TOTP MFA before any page (default on, off under DEBUG).
REQUIRE_STAFF_MFA = env_bool("REQUIRE_STAFF_MFA", not DEBUG)
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", "Paysite")
# Content-Security-Policy of every page (paysite/csp.py); empty means the built-in policy.
CONTENT_SECURITY_POLICY = env("CONTENT_SECURITY_POLICY")
CONTENT_SECURITY_POLICY_REPORT_ONLY = env_bool("CONTENT_SECURITY_POLICY_REPORT_ONLY", False)
# Compliance report (compliance/): at most this many items are read from each table (a sample of
# larger tables); a report runs in the task worker every COMPLIANCE_REPORT_INTERVAL_MINUTES and on
# "Run now", the last COMPLIANCE_REPORTS_KEPT are kept, and the whole audit chain is verified again at
# least every COMPLIANCE_FULL_VERIFY_HOURS (in between, only what was sealed since the last report).
COMPLIANCE_SCAN_MAX_ITEMS = env_int("COMPLIANCE_SCAN_MAX_ITEMS", 5000)
COMPLIANCE_REPORT_INTERVAL_MINUTES = env_int("COMPLIANCE_REPORT_INTERVAL_MINUTES", 60)
COMPLIANCE_REPORTS_KEPT = env_int("COMPLIANCE_REPORTS_KEPT", 30)
COMPLIANCE_FULL_VERIFY_HOURS = env_int("COMPLIANCE_FULL_VERIFY_HOURS", 24)
# Reliability (core/middleware.py): a page whose DynamoDB call still fails after its retries shows a
# 503 message instead of an error page.
MIDDLEWARE += ["core.middleware.StorageErrorMiddleware"]
