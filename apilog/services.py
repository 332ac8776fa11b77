"""Writing the API request log: an entry is built and put after the response went out.

Under WSGI the middleware hands `api_request_record` to the response's close, which the server calls
once the body is sent, so the caller never waits for the PutItem. On Lambda the handler wraps the
invocation in `api_requests_batched()`: entries wait in a list and go out in one BatchWriteItem when
the invocation ends. A failure to log is logged and swallowed: it never changes an API response."""

from __future__ import annotations

import contextvars
import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from ulid import ULID

from apilog.models import ApiRequest
from apilog.redaction import body_for_log, query_for_log, scrub_text
from core.ids import is_id

logger = logging.getLogger(__name__)

RETENTION = timedelta(days=30)
_PATH_PAYMENT = re.compile(r"/api/v1/payments/(pay_[0-9A-Za-z]{26})(?:/|$)")
_batch: contextvars.ContextVar[list[ApiRequest] | None] = contextvars.ContextVar("api_request_batch", default=None)


def new_log_id(at: datetime) -> str:
    """`log_` + a ULID of `at`: the request log's sort key (newest first, date ranges as key conditions)."""
    return f"log_{ULID.from_datetime(at)}"


@dataclass(frozen=True)
class ApiExchange:
    """What the middleware saw of one request and its response, before any redaction."""

    merchant_id: str
    arrived: datetime
    request_id: str
    method: str
    path: str
    query: str
    status: int
    latency_ms: int
    key_id: str | None
    idempotency_key: str | None
    replayed: bool
    request_body: bytes
    request_content_type: str
    response_body: bytes
    response_content_type: str


def _payment_touched(exchange: ApiExchange) -> str | None:
    """The payment a request touched: the id in its path, else the `id` or `payment_id` it answered."""
    match = _PATH_PAYMENT.match(exchange.path)
    if match:
        return match.group(1)
    if not exchange.response_body or "json" not in exchange.response_content_type:
        return None
    try:
        answer = json.loads(exchange.response_body)
    except ValueError:
        return None
    if isinstance(answer, dict):
        for name in ("id", "payment_id"):
            value = answer.get(name)
            if isinstance(value, str) and is_id(value, "pay"):
                return value
    return None


def api_request_entry(exchange: ApiExchange) -> ApiRequest:
    """The log item of one exchange: bodies redacted and cut to 16 KB, the TTL 30 days on."""
    # The path and the caller's headers are text like any other: a card number in them is cut out too.
    request_id = scrub_text(exchange.request_id)
    idempotency_key = scrub_text(exchange.idempotency_key[:255]) if exchange.idempotency_key else None
    request_body, request_cut = body_for_log(exchange.request_body, exchange.request_content_type)
    response_body, response_cut = body_for_log(exchange.response_body, exchange.response_content_type)
    return ApiRequest(
        exchange.merchant_id,
        new_log_id(exchange.arrived),
        request_id=request_id,
        merchant_request_id=f"{exchange.merchant_id}#{request_id}",
        method=exchange.method,
        path=scrub_text(exchange.path[:2048]),
        query_string=query_for_log(exchange.query),
        status=exchange.status,
        latency_ms=exchange.latency_ms,
        key_id=exchange.key_id,
        idempotency_key=idempotency_key,
        idempotent_replayed=exchange.replayed,
        payment_id=_payment_touched(exchange),
        request_body=request_body,
        request_body_truncated=request_cut,
        response_body=response_body,
        response_body_truncated=response_cut,
        expires_at=exchange.arrived + RETENTION,
    )


def api_request_record(exchange: ApiExchange) -> None:
    """Log one exchange: put now, or keep for the batch of this Lambda invocation. Never raises."""
    try:
        entry = api_request_entry(exchange)
        pending = _batch.get()
        if pending is not None:
            pending.append(entry)
        else:
            entry.save()
    except Exception:  # the log must never change (or break) the API's answer
        logger.warning("API request log: %s %s not logged", exchange.method, exchange.path, exc_info=True)


def api_requests_write(entries: list[ApiRequest]) -> None:
    """Put `entries` in BatchWriteItem calls of 25 (pynamodb retries what DynamoDB leaves over). Never raises."""
    if not entries:
        return
    try:
        with ApiRequest.batch_write() as batch:
            for entry in entries:
                batch.save(entry)
    except Exception:
        logger.warning("API request log: %d entries not logged", len(entries), exc_info=True)


@contextmanager
def api_requests_batched() -> Iterator[None]:
    """Within it, logged requests wait and are written together when it ends (a Lambda invocation)."""
    token = _batch.set([])
    try:
        yield
    finally:
        entries = _batch.get() or []
        _batch.reset(token)
        api_requests_write(entries)
