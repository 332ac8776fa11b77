"""Writes of the reconciliation app. Import services from here."""

from reconciliation.enums import Kind, Outcome
from reconciliation.services.intake import Intake, settlement_create
from reconciliation.services.processing import settlement_completed_webhook, settlement_process
from reconciliation.services.resolution import BulkResolution, discrepancy_resolve, discrepancy_resolve_bulk

__all__ = [
    "BulkResolution",
    "Intake",
    "Kind",
    "Outcome",
    "discrepancy_resolve",
    "discrepancy_resolve_bulk",
    "settlement_completed_webhook",
    "settlement_create",
    "settlement_process",
]
