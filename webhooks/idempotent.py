"""`Idempotency-Key` on the webhook endpoint POSTs that create something: a create, a secret rotation
and a test event, once per key (optional on these endpoints, as for customers: honoured when sent).

A create's or rotation's response holds the new secret in clear ("shown this once"). The idempotency
record keeps that response with the secret sealed instead (the same sealed value the endpoint item
holds, `core.crypto`), so no secret is in clear at rest; a replay unseals it and answers the first
response's bytes."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from pynamodb.transactions import TransactWrite

from core import dynamodb
from core.actor import Actor
from idempotency.services import (
    KEY_HEADER,
    Claim,
    IdempotencyKeyInUse,
    Pending,
    StoredResponse,
    idempotency_claim,
    idempotency_complete_in,
    idempotency_release,
)
from webhooks.endpoints import (
    AlsoInTransaction,
    webhook_endpoint_create,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_secret_unseal,
)
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.tasks import webhook_endpoint_ping

# Renders the response of a create or rotation from the endpoint and its secret in clear.
RenderWithSecret = Callable[[WebhookEndpoint, str], tuple[int, str]]

_SECRET_MEMBER = re.compile(r',"secret":("[^"\\]*")}$')  # the last member of the compact body


def _secret_member(value: str) -> str:
    return f',"secret":{json.dumps(value)}}}'


def _sealed_body(body: str, *, secret: str, sealed: str) -> str:
    """The body to store: the secret in clear replaced by its sealed value."""
    clear = _secret_member(secret)
    if not body.endswith(clear):
        raise ValueError("the response does not end with its secret")
    return body.removesuffix(clear) + _secret_member(sealed)


def _unsealed_body(*, merchant_id: str, body: str) -> str:
    """A stored body as it was first sent: its sealed secret back in clear."""
    match = _SECRET_MEMBER.search(body)
    if match is None:
        return body
    secret = webhook_endpoint_secret_unseal(merchant_id=merchant_id, stored=json.loads(match.group(1)))
    return body[: match.start()] + _secret_member(secret or "")


def _once(
    *, merchant_id: str, endpoint: str, key: str, fingerprint: str, change: Callable[[Claim], StoredResponse]
) -> StoredResponse:
    """Claim the key and run `change(claim)`, which completes the record (in its own transaction where
    it has one) and returns the first response; or answer the response stored for the key. The claim
    is released when the change fails, so the key can be retried."""
    claimed = idempotency_claim(merchant_id=merchant_id, endpoint=endpoint, key=key, fingerprint=fingerprint)
    if isinstance(claimed, StoredResponse):
        return replace(claimed, body=_unsealed_body(merchant_id=merchant_id, body=claimed.body))
    if isinstance(claimed, Pending):  # only payments leave records waiting for a processor
        raise IdempotencyKeyInUse(f"This `{KEY_HEADER}` is in use; retry later.", param=KEY_HEADER)
    try:
        return change(claimed)
    except BaseException:
        idempotency_release(claim=claimed)
        raise


def _with_secret(claim: Claim, render: RenderWithSecret) -> tuple[AlsoInTransaction, list[StoredResponse]]:
    """The hook that renders a create's or rotation's response in its transaction and stores it with
    the secret sealed, and the list the response lands in."""
    rendered: list[StoredResponse] = []

    def record(transaction: TransactWrite, endpoint: WebhookEndpoint, secret: str) -> None:
        status, body = render(endpoint, secret)
        rendered[:] = [StoredResponse(status, body)]
        stored = _sealed_body(body, secret=secret, sealed=endpoint.secret)
        idempotency_complete_in(transaction, claim=claim, status=status, body=stored)

    return record, rendered


def webhook_endpoint_create_idempotent(
    *, merchant_id: str, key: str, fingerprint: str, render: RenderWithSecret, **fields: Any
) -> StoredResponse:
    """`webhook_endpoint_create` once per `Idempotency-Key`: a retry gets the first endpoint and secret."""

    def change(claim: Claim) -> StoredResponse:
        record, rendered = _with_secret(claim, render)
        webhook_endpoint_create(merchant_id=merchant_id, also_in_transaction=record, **fields)
        return rendered[0]

    return _once(
        merchant_id=merchant_id, endpoint="POST /webhook-endpoints", key=key, fingerprint=fingerprint, change=change
    )


def webhook_endpoint_rotate_idempotent(
    *, merchant_id: str, endpoint_id: str, actor: Actor, key: str, fingerprint: str, render: RenderWithSecret
) -> StoredResponse:
    """`webhook_endpoint_rotate_secret` once per `Idempotency-Key`: a retry does not rotate again."""

    def change(claim: Claim) -> StoredResponse:
        record, rendered = _with_secret(claim, render)
        webhook_endpoint_rotate_secret(
            merchant_id=merchant_id, endpoint_id=endpoint_id, actor=actor, also_in_transaction=record
        )
        return rendered[0]

    return _once(
        merchant_id=merchant_id,
        endpoint=f"POST /webhook-endpoints/{endpoint_id}/rotate-secret",
        key=key,
        fingerprint=fingerprint,
        change=change,
    )


def webhook_endpoint_ping_idempotent(
    *,
    merchant_id: str,
    endpoint_id: str,
    actor: Actor,
    key: str,
    fingerprint: str,
    render: Callable[[WebhookDelivery], tuple[int, str]],
) -> StoredResponse:
    """`webhook_endpoint_ping` once per `Idempotency-Key`: a retry gets the first test delivery as it was
    answered. The ping is sent before the record completes (its attempt is an HTTP call, not a
    DynamoDB write): a failure between the two releases the key, so a retry may send a second ping."""

    def change(claim: Claim) -> StoredResponse:
        delivery = webhook_endpoint_ping(merchant_id=merchant_id, endpoint_id=endpoint_id, actor=actor)
        status, body = render(delivery)
        with TransactWrite(connection=dynamodb.connection()) as transaction:
            idempotency_complete_in(transaction, claim=claim, status=status, body=body)
        return StoredResponse(status, body)

    return _once(
        merchant_id=merchant_id,
        endpoint=f"POST /webhook-endpoints/{endpoint_id}/test",
        key=key,
        fingerprint=fingerprint,
        change=change,
    )
