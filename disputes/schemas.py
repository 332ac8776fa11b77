"""Input and output schemas of the disputes API (API.md, "Wave 2 additions")."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from ninja import Schema
from pydantic import ConfigDict, Field, StrictBool

from core.pagination import PageQuery
from core.wire import rfc3339
from disputes.enums import DisputeStatus

if TYPE_CHECKING:
    from disputes.models import Dispute, EvidenceFile

DisputeStatusLiteral = Literal[tuple(member.value for member in DisputeStatus)]  # type: ignore[valid-type]
MAX_EVIDENCE_TEXT = 20_000


class EvidenceFileOut(Schema):
    id: str
    filename: str
    content_type: str
    size: int
    uploaded: str

    @staticmethod
    def resolve_id(file: EvidenceFile) -> str:
        return file.file_id

    @staticmethod
    def resolve_uploaded(file: EvidenceFile) -> str | None:
        return rfc3339(file.uploaded)


class EvidenceOut(Schema):
    text: str | None = None
    files: list[EvidenceFileOut] = Field(default_factory=list, description="Added through the dashboard.")
    submitted: bool = False
    submitted_at: str | None = None


# Serialises a stored `Dispute`.
class DisputeOut(Schema):
    id: str = Field(..., description="`dp_` + ULID")
    object: str = "dispute"
    payment_id: str
    amount: int
    currency: str
    reason: str
    status: str = Field(
        ..., description="`needs_response`, `under_review`, `won`, `lost` or `accepted` (given up: counts as lost)."
    )
    evidence_due_by: str
    evidence: EvidenceOut
    created: str
    updated: str

    @staticmethod
    def resolve_id(dispute: Dispute) -> str:
        return dispute.dispute_id

    @staticmethod
    def resolve_object(dispute: Dispute) -> str:
        return "dispute"

    @staticmethod
    def resolve_evidence_due_by(dispute: Dispute) -> str | None:
        return rfc3339(dispute.evidence_due_by)

    @staticmethod
    def resolve_evidence(dispute: Dispute) -> dict[str, Any]:
        evidence = dispute.evidence
        submitted_at = evidence.submitted_at if evidence is not None else None
        return {
            "text": evidence.text if evidence is not None else None,
            "files": list(evidence.files or []) if evidence is not None else [],
            "submitted": submitted_at is not None,
            "submitted_at": rfc3339(submitted_at) if submitted_at else None,
        }

    @staticmethod
    def resolve_created(dispute: Dispute) -> str | None:
        return rfc3339(dispute.created)

    @staticmethod
    def resolve_updated(dispute: Dispute) -> str | None:
        return rfc3339(dispute.updated)


class DisputeListOut(Schema):
    object: str = "list"
    data: list[DisputeOut]
    has_more: bool
    next_cursor: str | None = Field(None, description="Pass as `starting_after` for the next page.")


class DisputeListQuery(PageQuery):
    cursor_prefix, cursor_noun = "dp", "a dispute"

    starting_after: str | None = Field(None, description="A dispute id (`next_cursor`): the page after it.")
    status: DisputeStatusLiteral | None = Field(None, description="One dispute status.")  # type: ignore[valid-type]
    payment_id: str | None = Field(None, description="Only the disputes of this payment.")


class EvidenceIn(Schema):
    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(None, max_length=MAX_EVIDENCE_TEXT, description="The merchant's evidence, as text.")
    submit: StrictBool = Field(
        False, description="`true` submits the evidence (the dispute goes `under_review`); `false` saves a draft."
    )


class AcceptIn(Schema):
    model_config = ConfigDict(extra="forbid")
