"""Writes of the reconciliation app. Import services from here."""

from reconciliation.models import KINDS, OUTCOMES
from reconciliation.services.intake import Intake, settlement_create
from reconciliation.services.processing import settlement_completed_webhook, settlement_process
from reconciliation.services.resolution import discrepancy_resolve

__all__ = [
    "KINDS",
    "OUTCOMES",
    "Intake",
    "discrepancy_resolve",
    "settlement_completed_webhook",
    "settlement_create",
    "settlement_process",
]
