"""Where uploaded settlement files are kept: Django's `settlements` storage (a local directory by
default, an S3 bucket through django-storages when `SETTLEMENT_FILES_BUCKET` is set), and the boto3
client the S3 event handler reads objects with.

Two prefixes that never overlap, so one bucket can hold both: files dropped for the S3 event handler
arrive under `INBOUND_PREFIX`, and the app keeps every file it accepted under `UPLOADS_PREFIX`. The
handler ignores the second: the app's own copy of a file is not a new file."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.conf import settings
from django.core.files.storage import Storage, storages

from core.lazy import lazy_import

boto3 = lazy_import("boto3")  # the S3 event handler alone: a request never imports it (core.lazy)

STORAGE_ALIAS = "settlements"
INBOUND_PREFIX = "settlements/"  # settlements/<merchant_id>/<name>.csv, for the S3 event handler
UPLOADS_PREFIX = "uploads/"  # uploads/<merchant_id>/<settlement_id>.csv, the app's own copies


def settlement_storage() -> Storage:
    return storages[STORAGE_ALIAS] if STORAGE_ALIAS in settings.STORAGES else storages["default"]


def settlement_storage_name(*, merchant_id: str, settlement_id: str) -> str:
    """A server-generated name: nothing of the uploaded file name reaches the file system."""
    return f"{UPLOADS_PREFIX}{merchant_id}/{settlement_id}.csv"


@cache
def _s3(region: str, endpoint: str | None) -> Any:
    return boto3.client("s3", region_name=region, endpoint_url=endpoint)


def s3_client() -> Any:
    return _s3(
        getattr(settings, "SETTLEMENT_S3_REGION", "us-east-1"),
        getattr(settings, "SETTLEMENT_S3_ENDPOINT", None) or None,
    )
