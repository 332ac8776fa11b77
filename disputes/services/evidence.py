"""A dispute's evidence: text saved as a draft or submitted, and files."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.files.uploadedfile import UploadedFile

from core import retry
from core.actor import Actor
from core.errors import ValidationFailed
from core.ids import new_id
from core.ids import now as clock_now
from disputes import files as evidence_files
from disputes.enums import DisputeAction, DisputeStatus
from disputes.errors import InvalidDisputeState
from disputes.models import Dispute, Evidence, EvidenceFile
from disputes.schemas import MAX_EVIDENCE_TEXT
from disputes.selectors import dispute_get
from disputes.services.changes import (
    DECISION_DELAY,
    DisputeChange,
    DisputeHook,
    dispute_actions,
    dispute_after,
    dispute_audit,
    dispute_change_commit,
)
from disputes.storage import evidence_storage, evidence_storage_name
from payments.models import Payment
from payments.selectors import payment_get


def _open_for_evidence(dispute: Dispute, at: datetime) -> None:
    if dispute.status != DisputeStatus.NEEDS_RESPONSE:
        raise InvalidDisputeState(f"A dispute that is {dispute.status} takes no more evidence.")
    if at >= dispute.evidence_due_by:
        raise InvalidDisputeState(
            f"The evidence was due by {dispute.evidence_due_by:%Y-%m-%d %H:%M} UTC; the dispute is being closed as lost."
        )


def _evidence(dispute: Dispute) -> Evidence:
    current = dispute.evidence
    return Evidence(
        text=current.text if current is not None else None,
        files=list(current.files or []) if current is not None else [],
        submitted_at=current.submitted_at if current is not None else None,
    )


def dispute_evidence_update(
    *,
    merchant_id: str,
    dispute_id: str,
    actor: Actor,
    text: str | None = None,
    submit: bool = False,
    now: datetime | None = None,
    also_in_transaction: DisputeHook | None = None,
) -> Dispute:
    """Save the evidence text as a draft (`submit=False`; None keeps the text saved before) or submit
    the evidence (the dispute goes `under_review` and the processor decides `DECISION_DELAY` later).
    Only while the dispute `needs_response` and before `evidence_due_by` (else 409 `invalid_state`)."""
    if text is not None and len(text) > MAX_EVIDENCE_TEXT:
        raise ValidationFailed(
            f"The evidence text is limited to {MAX_EVIDENCE_TEXT} characters.", param="text", code="text_too_long"
        )

    def attempt() -> Dispute:
        at = now or clock_now()
        dispute = dispute_get(merchant_id=merchant_id, dispute_id=dispute_id)
        _open_for_evidence(dispute, at)
        evidence = _evidence(dispute)
        if text is not None:
            evidence.text = text.strip() or None
        if submit and not (evidence.text or evidence.files):
            raise ValidationFailed(
                "Add evidence (text or files) before submitting it.", param="text", code="evidence_missing"
            )
        fields: dict[str, Any] = {"evidence": evidence, "updated": at}
        payment, payment_actions = None, []
        if submit:  # the payment's copy of the dispute status moves with it
            evidence.submitted_at = at
            status = DisputeStatus.UNDER_REVIEW.value
            fields.update(
                status=status,
                merchant_status=f"{merchant_id}#{status}",
                open_status=status,
                due_at=at + DECISION_DELAY,
            )
            payment = payment_get(merchant_id=merchant_id, payment_id=dispute.payment_id)
            payment_actions = [Payment.dispute_status.set(status)]
        after = dispute_after(dispute, fields)
        change = DisputeChange(
            dispute=dispute,
            after=after,
            dispute_actions=dispute_actions(fields),
            dispute_condition=Dispute.status == DisputeStatus.NEEDS_RESPONSE,
            payment=payment,
            payment_actions=payment_actions,
            payment_condition=Payment.dispute_id == dispute.dispute_id,
            audit=dispute_audit(
                dispute,
                actor=actor,
                at=at,
                before=dispute,
                after=after,
                action=DisputeAction.EVIDENCE_SUBMIT if submit else DisputeAction.EVIDENCE_SAVE,
            ),
        )
        return dispute_change_commit(change, at=at, also_in_transaction=also_in_transaction)

    return retry.transaction_retrying(attempt, reread_on_condition=True)


def dispute_evidence_file_add(
    *, merchant_id: str, dispute_id: str, actor: Actor, upload: UploadedFile, now: datetime | None = None
) -> Dispute:
    """Keep an evidence file (PDF or an image, at most 5 MB, told by its bytes) with the dispute's
    draft evidence. The file is stored first under a server-generated name, then recorded; when the
    record fails the file is deleted again."""
    at = now or clock_now()
    dispute = dispute_get(merchant_id=merchant_id, dispute_id=dispute_id)
    _open_for_evidence(dispute, at)
    if len(_evidence(dispute).files) >= evidence_files.MAX_FILES:
        raise ValidationFailed(
            f"A dispute keeps at most {evidence_files.MAX_FILES} evidence files.", param="file", code="too_many_files"
        )
    evidence_files.evidence_size_check(int(upload.size or 0))
    upload.seek(0)
    kind = evidence_files.evidence_file_type(upload.read(16))
    upload.seek(0)
    file_id = new_id("file", at)
    storage = evidence_storage()
    name = storage.save(
        evidence_storage_name(
            merchant_id=merchant_id, dispute_id=dispute.dispute_id, file_id=file_id, extension=kind.extension
        ),
        upload,
    )
    record = EvidenceFile(
        file_id=file_id,
        filename=evidence_files.display_name(upload.name),
        content_type=kind.content_type,
        size=int(upload.size or 0),
        storage_name=name,
        uploaded=at,
    )

    def attempt() -> Dispute:
        current = dispute_get(merchant_id=merchant_id, dispute_id=dispute_id)
        _open_for_evidence(current, at)
        evidence = _evidence(current)
        if len(evidence.files) >= evidence_files.MAX_FILES:
            raise ValidationFailed(
                f"A dispute keeps at most {evidence_files.MAX_FILES} evidence files.",
                param="file",
                code="too_many_files",
            )
        evidence.files.append(record)
        fields = {"evidence": evidence, "updated": at}
        after = dispute_after(current, fields)
        change = DisputeChange(
            dispute=current,
            after=after,
            dispute_actions=dispute_actions(fields),
            dispute_condition=Dispute.status == DisputeStatus.NEEDS_RESPONSE,
            payment=None,
            payment_actions=[],
            audit=dispute_audit(
                current,
                actor=actor,
                at=at,
                before=current,
                after=after,
                action=DisputeAction.EVIDENCE_FILE_ADD,
                detail=f"{record.filename} ({kind.content_type})",
            ),
        )
        return dispute_change_commit(change, at=at, also_in_transaction=None)

    try:
        return retry.transaction_retrying(attempt, reread_on_condition=True)
    except BaseException:
        storage.delete(name)
        raise
