"""The search index fed by the DynamoDB streams of the payments and customers tables (`SearchIndexer`).

Each record's NEW_IMAGE is the stored item, which is what the services hand to the same consumer
(`search.index`) in process; a REMOVE drops the row. Records are applied in stream order; at the
first one that fails the batch reports it (`ReportBatchItemFailures`), so Lambda retries from there
and nothing after it is applied out of order. Where this runs, `SEARCH_INDEX_INLINE=False` turns the
in-process feed off."""

from __future__ import annotations

import logging
import os
from typing import Any

import django
from django.apps import apps

if not apps.ready:  # in a Lambda this module is the entry point: settings and apps first
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paysite.settings")
    django.setup()

from django.db import close_old_connections  # noqa: E402

from customers.models import Customer  # noqa: E402
from payments.models import Payment  # noqa: E402
from search import index as search_index  # noqa: E402
from search.models import EntryKind  # noqa: E402

logger = logging.getLogger(__name__)


def _kinds() -> dict[str, tuple[str, str]]:
    """table name -> (index kind, key attribute)."""
    return {
        Payment.Meta.table_name: (EntryKind.PAYMENT, "payment_id"),
        Customer.Meta.table_name: (EntryKind.CUSTOMER, "customer_id"),
    }


def _table_of(record: dict[str, Any]) -> str:
    """`arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label>` -> `<name>`."""
    return record.get("eventSourceARN", "").partition(":table/")[2].partition("/")[0]


def record_apply(record: dict[str, Any]) -> None:
    kind, key = _kinds().get(_table_of(record), (None, ""))
    if kind is None:
        return  # not a table of the index
    change = record.get("dynamodb", {})
    if record.get("eventName") == "REMOVE":
        search_index.remove(kind, [change["Keys"][key]["S"]])
    elif "NewImage" in change:
        search_index.index_items(kind, [change["NewImage"]])


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    close_old_connections()
    try:
        for record in event.get("Records", []):
            try:
                record_apply(record)
            except Exception:
                logger.exception("search index: stream record %s failed", record.get("eventID"))
                return {"batchItemFailures": [{"itemIdentifier": record["dynamodb"]["SequenceNumber"]}]}
        return {"batchItemFailures": []}
    finally:
        close_old_connections()
