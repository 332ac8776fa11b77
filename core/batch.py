"""BatchGetItem (100 keys a call) and BatchWriteItem (25 items a call) over the shared client,
retrying `UnprocessedKeys`/`UnprocessedItems` with exponential backoff and jitter (throttling
errors themselves are retried by botocore's `standard` mode)."""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from pynamodb.models import Model

from core import dynamodb
from core.errors import StorageUnavailable

T = TypeVar("T")

GET_LIMIT = 100
WRITE_LIMIT = 25
MAX_ROUNDS = 8
BASE_DELAY = 0.05


def _client() -> Any:
    return dynamodb.connection().client


def _backoff(attempt: int) -> None:
    time.sleep(min(2.0, BASE_DELAY * 2**attempt) * (0.5 + random.random() / 2))  # noqa: S311 (jitter)


def _chunks(items: list[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _projection(model: type[Model], names: list[str]) -> dict[str, Any]:
    attributes = model.get_attributes()
    placeholders = {f"#p{i}": attributes[name].attr_name for i, name in enumerate(names)}
    return {"ProjectionExpression": ",".join(placeholders), "ExpressionAttributeNames": placeholders}


def batch_get(
    keys: Iterable[tuple[type[Model], dict[str, Any]]],
    *,
    fields: dict[type[Model], list[str]] | None = None,
    consistent: bool = True,
) -> list[Model]:
    """Items for (model, key attribute values) pairs from any tables, strongly consistent unless
    `consistent` is False. Keys are plain values: `(Payment, {"payment_id": "pay_..."})`. Missing
    items are left out. `fields` limits what is read of a model's items (the others come back unset)."""
    wanted = list(keys)
    fields = fields or {}
    models = {model.Meta.table_name: model for model, _ in wanted}
    found: list[Model] = []
    for chunk in _chunks(wanted, GET_LIMIT):
        request: dict[str, Any] = {}
        for model, key in chunk:
            serialized = {}
            for name, value in key.items():
                attribute = model.get_attributes()[name]
                serialized[attribute.attr_name] = {attribute.attr_type: attribute.serialize(value)}
            entry = request.setdefault(
                model.Meta.table_name,
                {
                    "Keys": [],
                    "ConsistentRead": consistent,
                    **(_projection(model, fields[model]) if model in fields else {}),
                },
            )
            if serialized not in entry["Keys"]:
                entry["Keys"].append(serialized)
        for attempt in range(MAX_ROUNDS):
            response = _client().batch_get_item(RequestItems=request)
            for table, items in response.get("Responses", {}).items():
                found.extend(models[table].from_raw_data(item) for item in items)
            request = response.get("UnprocessedKeys") or {}
            if not request:
                break
            _backoff(attempt)
        else:
            raise StorageUnavailable("DynamoDB kept keys of a batch read unprocessed; try again later.")
    return found


def batch_put(items: Iterable[Model]) -> int:
    """Put items of any tables, 25 a call; returns the number of calls made."""
    calls = 0
    for chunk in _chunks(list(items), WRITE_LIMIT):
        request: dict[str, list[dict[str, Any]]] = {}
        for item in chunk:
            request.setdefault(item.Meta.table_name, []).append({"PutRequest": {"Item": item.serialize()}})
        for attempt in range(MAX_ROUNDS):
            calls += 1
            response = _client().batch_write_item(RequestItems=request)
            request = response.get("UnprocessedItems") or {}
            if not request:
                break
            _backoff(attempt)
        else:
            raise StorageUnavailable("DynamoDB kept items of a batch write unprocessed; try again later.")
    return calls
