"""DynamoDB faults injected at the botocore level, on the one shared client of `core.dynamodb`.

A `before-send` handler, registered first, answers chosen operations with a DynamoDB error (as the
service sends it: HTTP 400 and a JSON `__type`) or raises a timeout or connection error, as the HTTP
layer would. Everything above it runs for real: botocore's standard retries and `core.retry`'s
deadline, pynamodb's error mapping, the services, the API and the pages. A faulted request never
reaches the engine (its URL is pointed away, so moto's own `before-send` handler leaves it alone).
`lost_answer` is the other way round: the request reaches the engine, which applies it, and then
the answer is lost (DynamoDB Local only).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError
from botocore.httpsession import URLLib3Session

from core import dynamodb

ERROR_TYPE = "com.amazonaws.dynamodb.v20120810#"
NOWHERE = "http://fault.invalid/"

THROTTLED = "ProvisionedThroughputExceededException"
THROTTLING = "ThrottlingException"
CONFLICT = "TransactionConflict"
TIMEOUT = "ReadTimeout"
CONNECTION = "ConnectionError"
KINDS = (THROTTLED, THROTTLING, CONFLICT, TIMEOUT, CONNECTION)


class _Raw:
    def __init__(self, body: bytes):
        self._body = body

    def stream(self, **kwargs: Any) -> Iterator[bytes]:
        yield self._body


def _error(url: str, code: str, message: str, **fields: Any) -> AWSResponse:
    body = json.dumps({"__type": ERROR_TYPE + code, "message": message, **fields}).encode()
    headers = {"x-amzn-requestid": "injected-fault", "content-type": "application/x-amz-json-1.0"}
    return AWSResponse(url, 400, headers, _Raw(body))


def _conflict(request: Any) -> AWSResponse:
    items = json.loads(request.body or b"{}").get("TransactItems", [])
    reasons = [{"Code": "None"} for _ in items] or [{"Code": "None"}]
    reasons[-1] = {"Code": CONFLICT, "Message": "Transaction is ongoing for the item"}
    return _error(
        request.url,
        "TransactionCanceledException",
        f"Transaction cancelled, please refer cancellation reasons for specific reasons [{CONFLICT}]",
        CancellationReasons=reasons,
    )


@dataclass
class Faults:
    """Which operations fail, how, and how many times (None: every time); what was injected."""

    plan: dict[str, tuple[str, int | None]] = field(default_factory=dict)
    injected: Counter = field(default_factory=Counter)
    calls: Counter = field(default_factory=Counter)

    def fail(self, operation: str, kind: str, times: int | None = None) -> None:
        assert kind in KINDS, kind
        self.plan[operation] = (kind, times)

    def heal(self) -> None:
        self.plan.clear()

    def __call__(self, request: Any, event_name: str, **kwargs: Any) -> AWSResponse | None:
        operation = event_name.rsplit(".", 1)[-1]
        self.calls[operation] += 1
        planned = self.plan.get(operation)
        if planned is None:
            return None
        kind, times = planned
        if times is not None and self.injected[operation] >= times:
            return None
        self.injected[operation] += 1
        url, request.url = request.url, NOWHERE
        if kind == TIMEOUT:
            raise ReadTimeoutError(endpoint_url=url)
        if kind == CONNECTION:
            raise EndpointConnectionError(endpoint_url=url)
        if kind == CONFLICT:
            return _conflict(request)
        return _error(url, kind, "Injected by the reliability tests")


@contextmanager
def injected() -> Iterator[Faults]:
    """Faults on the shared DynamoDB client for the duration of the block."""
    faults = Faults()
    events = dynamodb.connection().client.meta.events
    events.register_first("before-send.dynamodb", faults, unique_id="reliability-faults")
    try:
        yield faults
    finally:
        events.unregister("before-send.dynamodb", unique_id="reliability-faults")


@contextmanager
def lost_answer(operation: str, times: int = 1) -> Iterator[Counter]:
    """The engine applies `operation` but its answer never arrives (a read timeout after the write)."""
    sent: Counter = Counter()
    session = URLLib3Session()

    def handler(request: Any, event_name: str, **kwargs: Any) -> None:
        if not event_name.endswith("." + operation) or sent[operation] >= times:
            return None
        session.send(request)  # the engine applies it...
        sent[operation] += 1
        url, request.url = request.url, NOWHERE
        raise ReadTimeoutError(endpoint_url=url)  # ...and the answer is lost

    events = dynamodb.connection().client.meta.events
    events.register_first("before-send.dynamodb", handler, unique_id="reliability-lost-answer")
    try:
        yield sent
    finally:
        events.unregister("before-send.dynamodb", unique_id="reliability-lost-answer")
        session.close()


def table_snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every item of every table, by table (the tests compare before and after a failed request); not
    the API request log, which records the failed request too."""
    client = dynamodb.connection().client
    snapshot: dict[str, list[dict[str, Any]]] = {}
    for model in dynamodb.models():
        if model.Meta.base_name == "api_requests":
            continue
        name = model.Meta.table_name
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": name, "ConsistentRead": True}
        while True:
            page = client.scan(**kwargs)
            items.extend(page["Items"])
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        snapshot[model.Meta.base_name] = sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
    return snapshot
