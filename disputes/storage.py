"""Where evidence files are kept: the storage of settlement files (a local directory by default, the
S3 bucket when `SETTLEMENT_FILES_BUCKET` is set), under their own prefix and server-generated names.
Nothing of the uploaded file name reaches the file system or the bucket."""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import Storage, storages

STORAGE_ALIAS = "settlements"  # the settlement files' storage (paysite/settings.py)
EVIDENCE_PREFIX = "evidence/"  # evidence/<merchant_id>/<dispute_id>/<file_id>.<ext>


def evidence_storage() -> Storage:
    return storages[STORAGE_ALIAS] if STORAGE_ALIAS in settings.STORAGES else storages["default"]


def evidence_storage_name(*, merchant_id: str, dispute_id: str, file_id: str, extension: str) -> str:
    return f"{EVIDENCE_PREFIX}{merchant_id}/{dispute_id}/{file_id}.{extension}"
