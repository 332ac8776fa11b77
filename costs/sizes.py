"""How DynamoDB sizes items and turns sizes into capacity units.

The rules of the DynamoDB Developer Guide ("Item sizes and formats", "Read and write operations"):
an item's size is the UTF-8 length of every attribute name plus its value; a number takes one byte
per two significant digits plus one; a list or map takes 3 bytes plus one byte per element; null and
booleans take one byte. Writes are billed in 1 KB units rounded up per item (twice that inside a
transaction), reads in 4 KB units (an eventually consistent read half a unit, a transactional read
two). A Query adds up the sizes of the items it reads and rounds once; GetItem and BatchGetItem
round every item. Storage adds 100 bytes of overhead to every item, in the table and in each index.
"""

from __future__ import annotations

import base64
import math
from decimal import Decimal
from typing import Any

WRITE_UNIT_BYTES = 1024
READ_UNIT_BYTES = 4096
STORAGE_OVERHEAD_BYTES = 100

READ_FACTORS = {"eventual": Decimal("0.5"), "strong": Decimal("1"), "transactional": Decimal("2")}


def number_size(text: str) -> int:
    """One byte per two significant digits, plus one (plus one for a negative number)."""
    negative = text.startswith("-")
    digits = text.lstrip("+-").lower().split("e")[0].replace(".", "").strip("0")
    size = math.ceil(max(len(digits), 1) / 2) + 1
    return size + 1 if negative else size


def value_size(value: dict[str, Any]) -> int:
    """The size of one attribute value in DynamoDB's JSON form (`{"S": "..."}`, `{"N": "12"}`...)."""
    ((kind, content),) = value.items()
    if kind == "S":
        return len(content.encode("utf-8"))
    if kind == "N":
        return number_size(content)
    if kind == "B":
        return len(content if isinstance(content, bytes | bytearray) else base64.b64decode(content))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(item.encode("utf-8")) for item in content)
    if kind == "NS":
        return sum(number_size(item) for item in content)
    if kind == "BS":
        return sum(value_size({"B": item}) for item in content)
    if kind == "L":
        return 3 + sum(1 + value_size(item) for item in content)
    if kind == "M":
        return 3 + sum(1 + len(name.encode("utf-8")) + value_size(item) for name, item in content.items())
    raise ValueError(f"Unknown DynamoDB type {kind!r}.")


def item_size(item: dict[str, dict[str, Any]]) -> int:
    """Bytes of an item as DynamoDB counts them: names plus values."""
    return sum(len(name.encode("utf-8")) + value_size(value) for name, value in item.items())


def write_units(size_bytes: int, *, transactional: bool = False) -> int:
    """Write units of one item: 1 KB units rounded up, doubled inside a transaction."""
    units = max(1, math.ceil(size_bytes / WRITE_UNIT_BYTES))
    return units * 2 if transactional else units


def read_units(size_bytes: int, *, consistency: str = "strong") -> Decimal:
    """Read units of one item (GetItem): 4 KB units rounded up, times the consistency factor."""
    return max(1, math.ceil(size_bytes / READ_UNIT_BYTES)) * READ_FACTORS[consistency]


def query_read_units(item_sizes: list[int], *, consistency: str = "eventual") -> Decimal:
    """A Query sums the sizes of the items it reads and rounds once to 4 KB."""
    return read_units(sum(item_sizes), consistency=consistency)


def batch_get_read_units(item_sizes: list[int], *, consistency: str = "strong") -> Decimal:
    """BatchGetItem rounds every item to 4 KB before adding them up."""
    return sum((read_units(size, consistency=consistency) for size in item_sizes), Decimal(0))


def stored_bytes(size_bytes: int) -> int:
    """What one item occupies for storage billing: its size plus 100 bytes of overhead."""
    return size_bytes + STORAGE_OVERHEAD_BYTES
