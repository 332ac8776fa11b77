"""Watch the DynamoDB calls a block of code makes, on the shared client, request and response."""

from __future__ import annotations

import copy
import json
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from core import dynamodb


@dataclass
class Call:
    operation: str
    params: dict[str, Any]
    consumed: Any = None


@dataclass
class Calls:
    calls: list[Call] = field(default_factory=list)

    def of(self, operation: str) -> list[Call]:
        return [call for call in self.calls if call.operation == operation]

    def transaction(self) -> Call:
        (only,) = self.of("TransactWriteItems")
        return only


@contextmanager
def dynamodb_calls():
    events = dynamodb.connection().client.meta.events
    seen = Calls()

    def before(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        call = Call(model.name, copy.deepcopy(params))
        seen.calls.append(call)
        context["tests_costs_call"] = call

    def after(parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        call = context.get("tests_costs_call")
        if call is not None:
            call.consumed = parsed.get("ConsumedCapacity")

    # registered after the app's own metering, so `params` already asks for INDEXES
    events.register_last("before-parameter-build.dynamodb", before, unique_id="tests-costs-before")
    events.register_last("after-call.dynamodb", after, unique_id="tests-costs-after")
    try:
        yield seen
    finally:
        events.unregister("before-parameter-build.dynamodb", unique_id="tests-costs-before")
        events.unregister("after-call.dynamodb", unique_id="tests-costs-after")


def stored_items(transaction: Call) -> dict[tuple[str, str], dict]:
    """The items a transaction updated, read back by key as they are stored now."""
    prefix = dynamodb.table_name("")
    out = {}
    client = dynamodb.connection().client
    for entry in transaction.params["TransactItems"]:
        ((kind, body),) = entry.items()
        if kind != "Update":
            continue
        item = client.get_item(TableName=body["TableName"], Key=body["Key"], ConsistentRead=True).get("Item", {})
        out[(body["TableName"][len(prefix) :], json.dumps(body["Key"], sort_keys=True))] = item
    return out
