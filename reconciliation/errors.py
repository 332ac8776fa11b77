"""Reconciliation's domain errors; `paysite/api.py` maps every `DomainError` to problem+json."""

from __future__ import annotations

from core.errors import InvalidState, NotFound, ValidationFailed


class SettlementNotFound(NotFound):
    title = "No such settlement"


class DiscrepancyNotFound(NotFound):
    title = "No such discrepancy"


class SettlementFileRejected(ValidationFailed):
    """The whole file is refused before anything is stored; `detail` says why."""

    code = "invalid_file"
    title = "The settlement file was rejected"


class DiscrepancyAlreadyResolved(InvalidState):
    code = "already_resolved"
    title = "The discrepancy is already resolved"


class PayoutNotFound(NotFound):
    title = "No such payout"
