"""Resolving a discrepancy: a person says why it is fine; the change and its audit event are one
transaction, and a discrepancy is resolved once."""

from __future__ import annotations

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from audit.services import audit_condition, audit_event_new
from core import dynamodb
from core.actor import Actor
from core.errors import ValidationFailed
from core.ids import now
from reconciliation.errors import DiscrepancyAlreadyResolved
from reconciliation.models import Discrepancy
from reconciliation.selectors import discrepancy_get

MAX_REASON = 500


def discrepancy_resolve(
    *, merchant_id: str, settlement_id: str, discrepancy_id: str, actor: Actor, reason: str
) -> Discrepancy:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Say why the discrepancy is resolved.", param="reason", code="reason_missing")
    if len(reason) > MAX_REASON:
        raise ValidationFailed(
            f"The reason is longer than {MAX_REASON} characters.", param="reason", code="reason_too_long"
        )
    discrepancy = discrepancy_get(merchant_id=merchant_id, settlement_id=settlement_id, discrepancy_id=discrepancy_id)
    if discrepancy.resolved:
        raise DiscrepancyAlreadyResolved(f"{discrepancy_id} was already resolved by {discrepancy.resolved_by}.")
    at = now()
    who = actor.id if actor.type == "user" else f"{actor.type}:{actor.id}"
    audit = audit_event_new(
        merchant_id=merchant_id,
        actor=actor,
        action="discrepancy.resolve",
        entity_type="discrepancy",
        entity_id=discrepancy_id,
        before={"resolved": False, "settlement_id": settlement_id, "kind": discrepancy.kind},
        after={"resolved": True, "settlement_id": settlement_id, "kind": discrepancy.kind, "reason": reason},
        at=at,
    )
    try:
        with TransactWrite(connection=dynamodb.connection()) as transaction:
            transaction.update(
                discrepancy,
                actions=[
                    Discrepancy.resolved.set(True),
                    Discrepancy.resolved_by.set(who),
                    Discrepancy.resolved_reason.set(reason),
                    Discrepancy.resolved_at.set(at),
                ],
                condition=Discrepancy.resolved == False,  # noqa: E712 (a DynamoDB condition, not a comparison)
            )
            transaction.save(audit, condition=audit_condition())
    except TransactWriteError as error:
        raise DiscrepancyAlreadyResolved(f"{discrepancy_id} was resolved by someone else just now.") from error
    return discrepancy_get(merchant_id=merchant_id, settlement_id=settlement_id, discrepancy_id=discrepancy_id)
