"""What the services really wrote: the item writes of a TransactWriteItems request, in the form of the
declared write path (`costs.write_path`), for the tests that compare the two."""

from __future__ import annotations

import json

from costs.sizes import item_size
from costs.write_path import ItemWrite


def observed_writes(transact_items: list[dict], *, prefix: str, stored: dict[tuple[str, str], dict]) -> list[ItemWrite]:
    """The item writes of one TransactWriteItems request, in the form of the declaration.
    `stored` maps (table, key JSON) to the item as stored after the call (for updates)."""
    out = []
    for entry in transact_items:
        ((kind, body),) = entry.items()
        table = body["TableName"][len(prefix) :] if body["TableName"].startswith(prefix) else body["TableName"]
        if kind == "Put":
            item = body["Item"]
            out.append(ItemWrite(table, "put", item_size(item), frozenset(item)))
        elif kind == "Update":
            after = stored[(table, json.dumps(body["Key"], sort_keys=True))]
            names = frozenset(body.get("ExpressionAttributeNames", {}).values()) - frozenset(body["Key"])
            out.append(ItemWrite(table, "update", item_size(after), names, frozenset(after)))
        else:
            out.append(ItemWrite(table, kind.lower(), 0, frozenset()))
    return out
