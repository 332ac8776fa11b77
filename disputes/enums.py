"""The closed sets of the disputes app: a dispute's status and reason, and what the processor
decides. Stored values, JSON bodies and templates use the enums' values."""

from __future__ import annotations

from enum import StrEnum


class DisputeStatus(StrEnum):
    NEEDS_RESPONSE = "needs_response"  # the merchant may add evidence until `evidence_due_by`
    UNDER_REVIEW = "under_review"  # evidence submitted; the processor decides
    WON = "won"
    LOST = "lost"
    ACCEPTED = "accepted"  # the merchant gave up: counts as lost


# A dispute is open (its payment cannot be refunded) while in one of these.
OPEN_STATUSES = (DisputeStatus.NEEDS_RESPONSE, DisputeStatus.UNDER_REVIEW)
CLOSED_STATUSES = (DisputeStatus.WON, DisputeStatus.LOST, DisputeStatus.ACCEPTED)


class DisputeReason(StrEnum):
    FRAUDULENT = "fraudulent"
    PRODUCT_NOT_RECEIVED = "product_not_received"
    PRODUCT_UNACCEPTABLE = "product_unacceptable"
    DUPLICATE = "duplicate"
    SUBSCRIPTION_CANCELED = "subscription_canceled"
    CREDIT_NOT_PROCESSED = "credit_not_processed"
    GENERAL = "general"


class DisputeAction(StrEnum):
    """The audit actions of disputes (and the timeline's entries)."""

    OPEN = "dispute.open"
    EVIDENCE_SAVE = "dispute.evidence_save"
    EVIDENCE_SUBMIT = "dispute.evidence_submit"
    EVIDENCE_FILE_ADD = "dispute.evidence_file_add"
    ACCEPT = "dispute.accept"
    CLOSE = "dispute.close"


# The sandbox processor decides submitted evidence this long after its submission: evidence
# containing this phrase wins, any other loses.
WINNING_EVIDENCE = "winning_evidence"
