"""AWS Lambda handler for S3 `ObjectCreated` events on `settlements/<merchant_id>/<name>.csv`.

It reads the object with boto3 and runs the same intake and processing services as the upload page
and the API, inline (a Lambda has no task worker). A redelivered event finds the settlement by the
file's SHA-256 and resumes it if it was not completed, so retries never duplicate anything.

The app keeps the files it accepted under another prefix (`reconciliation.storage.UPLOADS_PREFIX`);
when that storage is the same bucket, their events are ignored, so no file is processed twice."""

from __future__ import annotations

import logging
import os
import re
import tempfile
from typing import Any
from urllib.parse import unquote_plus

import django
from django.apps import apps

if not apps.ready:  # in a Lambda this module is the entry point
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paysite.settings")
    django.setup()

from core.actor import Actor  # noqa: E402
from core.errors import DomainError  # noqa: E402
from merchants.selectors import merchant_get_or_none  # noqa: E402
from reconciliation import csvfile  # noqa: E402
from reconciliation.enums import Source  # noqa: E402
from reconciliation.services import settlement_create, settlement_process  # noqa: E402
from reconciliation.storage import INBOUND_PREFIX, UPLOADS_PREFIX, s3_client  # noqa: E402

logger = logging.getLogger(__name__)
KEY_PATTERN = re.compile(
    re.escape(INBOUND_PREFIX) + r"(?P<merchant_id>mer_[0-9A-Za-z]{26})/(?P<name>[^/]+\.csv)", re.ASCII
)


def _record(record: dict[str, Any]) -> dict[str, Any]:
    bucket = record["s3"]["bucket"]["name"]
    key = unquote_plus(record["s3"]["object"]["key"])
    if key.startswith(UPLOADS_PREFIX):
        return {"key": key, "ignored": "stored_upload", "detail": "The app's own copy of an accepted file."}
    match = KEY_PATTERN.fullmatch(key)
    if match is None:
        return {"key": key, "error": "not_a_settlement_key", "detail": "Expected settlements/<merchant_id>/<name>.csv."}
    merchant_id = match["merchant_id"]
    if merchant_get_or_none(merchant_id=merchant_id) is None:
        return {"key": key, "error": "unknown_merchant", "detail": f"No merchant {merchant_id}."}
    actor = Actor(type="system", id="s3", request_id=record.get("responseElements", {}).get("x-amz-request-id"))
    client = s3_client()
    try:
        csvfile.size_check(int(client.head_object(Bucket=bucket, Key=key)["ContentLength"]))
        with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as spooled:
            client.download_fileobj(bucket, key, spooled)
            intake = settlement_create(
                merchant_id=merchant_id,
                actor=actor,
                file=spooled,
                filename=match["name"],
                source=Source.S3,
                enqueue=False,
            )
        settlement = settlement_process(
            merchant_id=merchant_id, settlement_id=intake.settlement.settlement_id, actor=actor
        )
    except DomainError as error:
        logger.warning("s3 settlement %s rejected: %s", key, error.detail)
        return {"key": key, "error": error.code, "detail": error.detail}
    return {
        "key": key,
        "settlement_id": settlement.settlement_id,
        "status": settlement.status,
        "created": intake.created,
    }


def s3_event(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Entry point: `reconciliation.handlers.s3_event`. Rejected files are reported, not retried."""
    return {"results": [_record(record) for record in event.get("Records", [])]}
