"""Customers: email, name and phone are encrypted field by field; the email is also kept as a keyed
hash (per merchant) so an exact-email lookup works without decrypting anything."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from pynamodb.transactions import TransactWrite

from audit.services import audit_condition, audit_event_new
from core import crypto, dynamodb
from core.actor import Actor
from core.cards import pan_check_text
from core.errors import ValidationFailed
from core.ids import new_id
from core.ids import now as clock_now
from customers.models import Customer, EncryptedValue, email_index_key
from idempotency.services import StoredResponse, idempotency_claim, idempotency_complete_in, idempotency_release
from search import index as search_index

MAX_METADATA_KEYS, MAX_METADATA_KEY, MAX_METADATA_VALUE = 50, 40, 500


def _seal(customer_id: str, field: str, value: str | None) -> EncryptedValue | None:
    if value is None or value == "":
        return None
    sealed = crypto.encrypt(value, context=f"{customer_id}:{field}")
    return EncryptedValue(key_id=sealed.key_id, nonce=sealed.nonce, ciphertext=sealed.ciphertext)


def _check_metadata(metadata: dict[str, Any]) -> None:
    if len(metadata) > MAX_METADATA_KEYS:
        raise ValidationFailed(f"At most {MAX_METADATA_KEYS} metadata keys.", param="metadata", code="invalid_metadata")
    for key, value in metadata.items():
        if not key or len(key) > MAX_METADATA_KEY or not isinstance(value, str) or len(value) > MAX_METADATA_VALUE:
            raise ValidationFailed(
                f"Metadata keys are 1 to {MAX_METADATA_KEY} characters, values strings of at most {MAX_METADATA_VALUE}.",
                param=f"metadata.{key}",
                code="invalid_metadata",
            )
        pan_check_text(key, param=f"metadata.{key}")
        pan_check_text(value, param=f"metadata.{key}")


def customer_field(customer: Customer, field: str) -> str | None:
    """The clear value of one encrypted field."""
    value = getattr(customer, field)
    if value is None:
        return None
    return crypto.decrypt(
        crypto.Sealed(value.key_id, value.nonce, value.ciphertext), context=f"{customer.customer_id}:{field}"
    )


def customer_create(
    *,
    merchant_id: str,
    actor: Actor,
    email: str,
    name: str = "",
    phone: str | None = None,
    metadata: dict[str, Any] | None = None,
    now: datetime | None = None,
    also_in_transaction: Callable[[TransactWrite, Customer], None] | None = None,
) -> Customer:
    """Create a customer and its audit event in one transaction; `also_in_transaction(transaction,
    customer)` adds writes to it (the idempotent response)."""
    email = (email or "").strip()
    try:
        if len(email) > 254:
            raise ValidationError("too long")
        validate_email(email)
    except ValidationError:
        raise ValidationFailed("Enter a valid email address.", param="email", code="invalid_email") from None
    name = name or ""
    if len(name) > 200:
        raise ValidationFailed("The name is longer than 200 characters.", param="name", code="invalid_name")
    if phone is not None and len(phone) > 40:
        raise ValidationFailed("The phone number is longer than 40 characters.", param="phone", code="invalid_phone")
    _check_metadata(metadata or {})
    at = now or clock_now()
    customer_id = new_id("cus", at)
    customer = Customer(
        customer_id=customer_id,
        merchant_id=merchant_id,
        merchant_email=email_index_key(merchant_id=merchant_id, email=email),
        email=_seal(customer_id, "email", email),
        name=_seal(customer_id, "name", name.strip()),
        phone=_seal(customer_id, "phone", (phone or "").strip()),
        metadata=metadata or {},
        created=at,
        updated=at,
    )
    audit = audit_event_new(
        merchant_id=merchant_id,
        actor=actor,
        action="customer.create",
        entity_type="customer",
        entity_id=customer_id,
        after={"email": email, "name": name, "phone": phone, "metadata": metadata or {}},
        at=at,
    )
    with TransactWrite(connection=dynamodb.connection()) as transaction:
        transaction.save(customer, condition=Customer.customer_id.does_not_exist())
        transaction.save(audit, condition=audit_condition())
        if also_in_transaction is not None:
            also_in_transaction(transaction, customer)
    search_index.after_commit("customer", [customer.serialize()])
    return customer


def customer_create_idempotent(
    *, merchant_id: str, key: str, fingerprint: str, render: Callable[[Customer], tuple[int, str]], **fields: Any
):
    """`customer_create` once per `Idempotency-Key` (optional on this endpoint): the rendered response
    is stored in the customer's own transaction and replayed for the same key and body. Returns the
    idempotency service's `StoredResponse`."""
    claimed = idempotency_claim(merchant_id=merchant_id, endpoint="POST /customers", key=key, fingerprint=fingerprint)
    if isinstance(claimed, StoredResponse):
        return claimed
    rendered: list[tuple[int, str]] = []

    def record_response(transaction: TransactWrite, customer: Customer) -> None:
        rendered[:] = [render(customer)]
        idempotency_complete_in(transaction, claim=claimed, status=rendered[0][0], body=rendered[0][1])

    try:
        customer_create(merchant_id=merchant_id, also_in_transaction=record_response, **fields)
    except BaseException:
        idempotency_release(claim=claimed)
        raise
    return StoredResponse(*rendered[0])
