"""Domain errors of disputes: the API maps them to problem+json in one place, pages show them as messages."""

from __future__ import annotations

from core.errors import InvalidState, NotFound, ValidationFailed


class DisputeNotFound(NotFound):
    title = "No such dispute"


class InvalidDisputeState(InvalidState):
    pass


class EvidenceFileRejected(ValidationFailed):
    title = "Evidence file rejected"
