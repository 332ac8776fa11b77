"""The stored-data scan behind PCI DSS 3.3.1 / 3.5.1: every table's items (all of a table up to
`COMPLIANCE_SCAN_MAX_ITEMS`, an evenly spread sample of larger ones through parallel-scan segments)
searched for a full card number and for CVC-like attributes.

This is a Scan, on purpose: it runs for the ops compliance report (page or command), never on a
merchant's request path.

It looks for card data in whatever digits it was written: a card number in full-width or another
script's digits ("４２４２ ４２４２ …") is still the card number, and a merchant's free text can hold one.
So every Unicode decimal digit is read as its ASCII digit first (`ascii_digits`), and the patterns
then match ASCII digits only. Input is the other way round: forms and the API accept ASCII digits only."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from core import dynamodb
from core.cards import pan_find

CVC_NAME = re.compile(r"cvc2?|cvv2?|cid|csc|card_?verification(_?(code|value))?|security_?code", re.IGNORECASE)
CVC_VALUE = re.compile(r"[0-9]{3,4}")
SEGMENTS_FOR_SAMPLE = 8
MAX_FINDINGS = 50


def ascii_digits(text: str) -> str:
    """`text` with every Unicode decimal digit written as its ASCII digit ("４２" and "٤٢" become "42")."""
    if text.isascii():
        return text
    return "".join(str(unicodedata.decimal(char)) if char.isdecimal() else char for char in text)


def _cvc_like(name: Any, value: Any) -> bool:
    """A CVC-like name (the whole name) holding 3 or 4 digits (the whole value, spaces aside)."""
    return bool(CVC_NAME.fullmatch(str(name).strip()) and CVC_VALUE.fullmatch(ascii_digits(str(value)).strip()))


@dataclass
class Found:
    table: str
    key: str  # the item's key, "payment_id=pay_..."
    path: str  # where in the item, "metadata.note"
    what: str  # "card number …4242 (16 digits)" or "CVC-like attribute"


@dataclass
class TableScan:
    table: str
    scanned: int = 0
    approximate_total: int = 0
    sampled: bool = False


@dataclass
class ScanResult:
    tables: list[TableScan] = field(default_factory=list)
    found: list[Found] = field(default_factory=list)
    fingerprints: set[str] = field(default_factory=set)


def _python(value: Any, path: str) -> Iterator[tuple[str, str, str]]:
    """(path, kind, text) for every string and number inside a parsed JSON value; kind "cvc" for a
    CVC-like name holding 3-4 digits."""
    if isinstance(value, dict):
        for key, item in value.items():
            sub = f"{path}.{key}"
            if _cvc_like(key, item):
                yield sub, "cvc", ""
            yield sub, "name", str(key)
            yield from _python(item, sub)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _python(item, f"{path}[{index}]")
    elif isinstance(value, str | int | float) and not isinstance(value, bool):
        yield path, "text", str(value)


def _typed(value: dict[str, Any], path: str) -> Iterator[tuple[str, str, str]]:
    """The same over DynamoDB's typed JSON; strings that hold JSON (JSONAttribute) are opened."""
    ((kind, inner),) = value.items()
    if kind == "S":
        parsed = None
        if inner[:1] in ("{", "["):
            try:
                parsed = json.loads(inner)
            except ValueError:
                parsed = None
        if isinstance(parsed, dict | list):  # a JSON attribute: look inside, naming the exact field
            yield from _python(parsed, path)
        else:
            yield path, "text", inner
    elif kind == "N":
        yield path, "text", inner
    elif kind in ("SS", "NS"):
        for item in inner:
            yield path, "text", item
    elif kind == "M":
        for key, item in inner.items():
            sub = f"{path}.{key}" if path else key
            if _cvc_like(key, next(iter(item.values()))):
                yield sub, "cvc", ""
            yield from _typed(item, sub)
    elif kind == "L":
        for index, item in enumerate(inner):
            yield from _typed(item, f"{path}[{index}]")


def item_findings(item: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(path, what) for every card number or CVC-like attribute in one raw item."""
    for name, value in item.items():
        if _cvc_like(name, next(iter(value.values()))):
            yield name, "CVC-like attribute"
        for path, kind, text in _typed(value, name):
            if kind == "cvc":
                yield path, "CVC-like attribute"
            elif (masked := pan_find(ascii_digits(text), stored=True)) is not None:
                yield path, f"card number {masked}"


def _key_of(item: dict[str, Any], key_names: list[str]) -> str:
    return ", ".join(f"{name}={next(iter(item[name].values()))}" for name in key_names if name in item)


def _scan_table(client: Any, name: str, limit: int, result: ScanResult) -> TableScan:
    described = client.describe_table(TableName=name)["Table"]
    key_names = [k["AttributeName"] for k in described["KeySchema"]]
    scan = TableScan(table=name, approximate_total=int(described.get("ItemCount", 0)))
    # Larger tables: a slice of each of a few segments, so the sample spans the table; never more
    # segments than the limit, so no more than `limit` items are read.
    segments = min(SEGMENTS_FOR_SAMPLE, limit) if scan.approximate_total > limit else 1
    per_segment = max(1, limit // segments)
    for segment in range(segments):
        read, start = 0, None
        while True:
            request: dict[str, Any] = {"TableName": name, "Limit": min(1000, per_segment - read)}
            if segments > 1:
                request.update(Segment=segment, TotalSegments=segments)
            if start:
                request["ExclusiveStartKey"] = start
            page = client.scan(**request)
            for item in page.get("Items", []):
                read += 1
                for path, what in item_findings(item):
                    if len(result.found) < MAX_FINDINGS:
                        result.found.append(Found(table=name, key=_key_of(item, key_names), path=path, what=what))
                card = item.get("card", {}).get("M", {})
                if "fingerprint" in card and len(result.fingerprints) < 100_000:
                    result.fingerprints.add(card["fingerprint"]["S"])
            start = page.get("LastEvaluatedKey")
            if not start:
                break
            if read >= per_segment:
                scan.sampled = True
                break
        scan.scanned += read
    return scan


def stored_data_scan(*, limit: int | None = None) -> ScanResult:
    limit = limit or settings.COMPLIANCE_SCAN_MAX_ITEMS
    client = dynamodb.connection().client
    result = ScanResult()
    for model in dynamodb.models():
        result.tables.append(_scan_table(client, model.Meta.table_name, limit, result))
    return result
