"""Test settings: the real settings with test secrets, inline tasks and fast hashing."""

import os

os.environ["PAYSITE_ENV_FILE"] = ""  # a developer's .env must not change the tests
os.environ.setdefault("DJANGO_DEBUG", "0")
os.environ.setdefault("DJANGO_SECRET_KEY", "test-secret-key-" + "x" * 60)
os.environ.setdefault("FIELD_ENCRYPTION_KEY", "test-field-encryption-key-" + "y" * 32)
os.environ.setdefault("FINGERPRINT_KEY", "test-fingerprint-key-" + "z" * 32)
os.environ.setdefault("AUDIT_SIGNING_KEY", "test-audit-signing-key-" + "w" * 32)
os.environ["DJANGO_SECURE"] = "0"

from paysite.settings import *  # noqa: E402,F403

DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tests"}}
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
DYNAMODB = {**DYNAMODB, "ENDPOINT": None, "REGION": "us-east-1", "TABLE_PREFIX": "test-"}  # noqa: F405
SETTLEMENT_SETTLE_LANES = 1  # moto's store is not safe for concurrent transactions; engine tests set 4
IMPORT_WRITE_THREADS = 1  # the same for the import's transactions; its engine test sets 4
WEBHOOK_ALLOW_PRIVATE_URLS = True  # test receivers listen on 127.0.0.1; the egress tests turn it off
WEBHOOK_ENDPOINTS_CACHE_SECONDS = 0  # tables are emptied between tests; the cache's own tests turn it on
REQUIRE_STAFF_MFA = False  # on by default outside DEBUG; the MFA tests turn it on
WHITENOISE_USE_FINDERS = True  # serve static files from the apps and node_modules, no collectstatic
WHITENOISE_AUTOREFRESH = True
