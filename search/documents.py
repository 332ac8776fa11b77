"""Stored items (DynamoDB JSON, as `Model.serialize()` writes them and a stream's NEW_IMAGE carries
them) to index rows. The search app reads the items' attributes, not the payments and customers
apps' models, so the services of both can feed it without an import going up a layer."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from core import crypto
from search import terms
from search.models import EntryKind

_STORED_TIME = "%Y-%m-%dT%H:%M:%S.%f%z"


def _value(typed: dict[str, Any]) -> Any:
    """One DynamoDB-typed value, read as far as the index needs (no boto3: the web path does not load it)."""
    ((kind, value),) = typed.items()
    if kind == "N":
        return Decimal(value)
    if kind == "M":
        return plain(value)
    if kind == "L":
        return [_value(item) for item in value]
    if kind == "NULL":
        return None
    return value  # S, BOOL, and sets and binaries the index does not read


def plain(image: dict[str, Any]) -> dict[str, Any]:
    """{"amount": {"N": "1250"}} -> {"amount": Decimal("1250")}."""
    return {name: _value(value) for name, value in image.items()}


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.strptime(str(value), _STORED_TIME).astimezone(UTC)
    except ValueError:
        return None


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def payment_row(image: dict[str, Any]) -> dict[str, Any]:
    """The index row of a stored payment."""
    item = plain(image)
    currency = str(item.get("currency") or "")
    amount = _int(item.get("amount"))
    card = item.get("card") or {}
    tokens = [
        *terms.id_tokens(item.get("payment_id")),
        *terms.id_tokens(item.get("customer_id")),
        *terms.text_tokens(item.get("description"), item.get("external_id"), card.get("brand"), currency),
        *terms.amount_tokens(amount, currency),
        *([str(card["last4"])] if card.get("last4") else []),
    ]
    return {
        "merchant_id": str(item["merchant_id"]),
        "kind": EntryKind.PAYMENT,
        "object_id": str(item["payment_id"]),
        "customer_id": str(item.get("customer_id") or ""),
        "status": str(item.get("status") or ""),
        "currency": currency,
        "amount": amount,
        "created": _time(item.get("created")),
        "terms": " ".join(dict.fromkeys(tokens)),
    }


def _clear(item: dict[str, Any], field: str) -> str:
    sealed = item.get(field)
    if not sealed:
        return ""
    return crypto.decrypt(
        crypto.Sealed(sealed["key_id"], sealed["nonce"], sealed["ciphertext"]),
        context=f"{item['customer_id']}:{field}",
    )


def customer_row(image: dict[str, Any]) -> dict[str, Any]:
    """The index row of a stored customer: its personal data only as hashed prefixes."""
    item = plain(image)
    merchant_id = str(item["merchant_id"])
    tokens = [
        *terms.id_tokens(item.get("customer_id")),
        *terms.pii_tokens(
            merchant_id, email=_clear(item, "email"), name=_clear(item, "name"), phone=_clear(item, "phone")
        ),
    ]
    return {
        "merchant_id": merchant_id,
        "kind": EntryKind.CUSTOMER,
        "object_id": str(item["customer_id"]),
        "customer_id": str(item["customer_id"]),
        "status": "",
        "currency": "",
        "amount": None,
        "created": _time(item.get("created")),
        "terms": " ".join(dict.fromkeys(tokens)),
    }


ROW_BUILDERS = {EntryKind.PAYMENT: payment_row, EntryKind.CUSTOMER: customer_row}
