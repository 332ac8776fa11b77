"""How Paysite retries DynamoDB, on top of what botocore already does.

botocore's `standard` retry mode (configured in `core.dynamodb`) already retries every call on
throttling (`ProvisionedThroughputExceededException`, `ThrottlingException`, ...), 5xx answers,
timeouts and connection errors, with full-jitter exponential backoff, up to `MAX_ATTEMPTS`. Two
things are added here:

- a **deadline** per call (`DYNAMODB["DEADLINE"]` seconds): a retry whose backoff would end past it
  is not made, so a request waits a bounded time however many attempts remain;
- **whole-transaction retries**: DynamoDB cancels a `TransactWriteItems` with `TransactionConflict`
  (or `ThrottlingError`) when another request touched one of its items meanwhile. botocore does not
  retry a cancelled transaction; `transaction_retrying` commits it again, a bounded number of times,
  with the same jittered backoff. A retried `TransactWriteItems` is safe: nothing of a cancelled
  transaction was written, and botocore sends one `ClientRequestToken` for all attempts of a call,
  so a transaction whose answer was lost is not applied twice.

What still fails reaches `paysite.api` (503 `storage_unavailable` with `Retry-After`) or
`StorageErrorMiddleware` (a 503 page).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from botocore.retries import standard
from django.conf import settings
from pynamodb.exceptions import TransactWriteError

T = TypeVar("T")

# Cancellation reasons after which the very same transaction may simply be sent again.
RETRYABLE_CANCELLATIONS = frozenset({"TransactionConflict", "ThrottlingError"})
TRANSACTION_ATTEMPTS = 4
_BASE_DELAY = 0.025  # seconds; botocore's base for DynamoDB's non-throttling errors
_MAX_DELAY = 1.0
_STARTED = "paysite_started"


def deadline_seconds() -> float:
    return float(str(settings.DYNAMODB.get("DEADLINE", 10.0)))


def backoff(attempt: int) -> float:
    """Full jitter: a random delay up to base * 2^attempt, capped."""
    return random.random() * min(_MAX_DELAY, _BASE_DELAY * 2.0**attempt)


class _DeadlineRetryHandler:
    """botocore's standard retry handler, refusing retries that would end past the deadline."""

    def __init__(self, handler: standard.RetryHandler):
        self._handler = handler

    def needs_retry(self, **kwargs: Any) -> float | None:
        delay = self._handler.needs_retry(**kwargs)
        if delay is None:
            return None
        context = (kwargs.get("request_dict") or {}).get("context") or {}
        started = context.get(_STARTED)
        if started is not None and time.monotonic() + delay - started > deadline_seconds():
            return None
        return float(delay)


def _start_clock(context: dict[str, Any] | None = None, **kwargs: Any) -> None:
    if context is not None:
        context.setdefault(_STARTED, time.monotonic())


def install(client: Any) -> None:
    """Put the deadline on a DynamoDB client's standard retries (once per client)."""
    if getattr(client, "_paysite_deadline", False):
        return
    events = client.meta.events
    service = client.meta.service_model.service_id.hyphenize()
    unique_id = f"retry-config-{service}"
    max_attempts = client.meta.config.retries.get("total_max_attempts")
    # botocore registered its handler under `unique_id`; build the same one and wrap it.
    events.unregister(f"needs-retry.{service}", unique_id=unique_id)
    handler = standard.register_retry_handler(client, max_attempts=max_attempts)
    events.unregister(f"needs-retry.{service}", unique_id=unique_id)
    events.register(f"needs-retry.{service}", _DeadlineRetryHandler(handler).needs_retry, unique_id=unique_id)
    events.register(f"before-call.{service}", _start_clock, unique_id="paysite-deadline-clock")
    client._paysite_deadline = True


def cancellation_codes(error: TransactWriteError) -> set[str]:
    codes = (getattr(reason, "code", None) for reason in (error.cancellation_reasons or []) if reason)
    return {code for code in codes if isinstance(code, str) and code != "None"}


def is_retryable_cancellation(error: TransactWriteError) -> bool:
    codes = cancellation_codes(error)
    return bool(codes) and codes <= RETRYABLE_CANCELLATIONS


def is_stale_read(error: TransactWriteError) -> bool:
    """Cancelled because a condition failed (another writer changed an item first, perhaps alongside a
    conflict): reading again and rebuilding the transaction may succeed."""
    codes = cancellation_codes(error)
    return "ConditionalCheckFailed" in codes and codes <= RETRYABLE_CANCELLATIONS | {"ConditionalCheckFailed"}


def transaction_retrying(
    attempt: Callable[[], T], *, reread_on_condition: bool = False, attempts: int = TRANSACTION_ATTEMPTS
) -> T:
    """The one retry policy for DynamoDB transactions.

    `attempt` builds one whole transaction (reading first what it needs) and commits it. It runs again
    when DynamoDB cancels the transaction for a conflict or throttling only; with `reread_on_condition`
    (a read-modify-write under optimistic locking) also when a condition failed, so it reads again and
    rebuilds. At most `attempts` runs in all, within the deadline, with jittered backoff: a conflict
    storm sends at most `attempts` transactions. Callers never nest it."""
    started = time.monotonic()
    for n in range(attempts):
        try:
            return attempt()
        except TransactWriteError as error:
            again = is_retryable_cancellation(error) or (reread_on_condition and is_stale_read(error))
            if not again or n == attempts - 1:
                raise
            delay = backoff(n)
            if time.monotonic() + delay - started > deadline_seconds():
                raise
            time.sleep(delay)
    raise AssertionError("unreachable")
