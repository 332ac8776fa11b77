"""The dispute object of API.md, serialised from a stored item by `DisputeOut`: the API, the stored
idempotent responses and the webhook events share it."""

from __future__ import annotations

from typing import Any

from disputes.models import Dispute
from disputes.schemas import DisputeOut


def dispute_object(dispute: Dispute) -> dict[str, Any]:
    return DisputeOut.from_orm(dispute).model_dump(mode="json")


def dispute_json(dispute: Dispute) -> str:
    return DisputeOut.from_orm(dispute).model_dump_json()


def dispute_snapshot(dispute: Dispute) -> dict[str, Any]:
    """The dispute's state as an audit event's `before`/`after` records it (the evidence text is the
    merchant's correspondence, so only whether there is any)."""
    evidence = dispute.evidence
    return {
        "id": dispute.dispute_id,
        "object": "dispute",
        "payment_id": dispute.payment_id,
        "amount": int(dispute.amount),
        "currency": dispute.currency,
        "fee": int(dispute.fee or 0),
        "reason": dispute.reason,
        "status": dispute.status,
        "evidence_due_by": dispute.evidence_due_by.isoformat() if dispute.evidence_due_by else None,
        "evidence_text": bool(evidence is not None and evidence.text),
        "evidence_files": len(evidence.files or []) if evidence is not None else 0,
        "evidence_submitted": bool(evidence is not None and evidence.submitted_at),
    }
