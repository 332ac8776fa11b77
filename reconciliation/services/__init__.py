"""Writes of the reconciliation app. Import services from here."""

from reconciliation.enums import Kind, Outcome
from reconciliation.services.intake import Intake, settlement_create
from reconciliation.services.processing import settlement_completed_webhook, settlement_process
from reconciliation.services.resolution import discrepancy_resolve

__all__ = [
    "Intake",
    "Kind",
    "Outcome",
    "discrepancy_resolve",
    "settlement_completed_webhook",
    "settlement_create",
    "settlement_process",
]
