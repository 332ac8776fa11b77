"""The API objects of API.md (settlement, discrepancy) as JSON-ready data, serialised by their schemas,
for the pages, the management command and the webhook events."""

from __future__ import annotations

from typing import Any

from reconciliation.models import Discrepancy, Settlement
from reconciliation.schemas import DiscrepancyOut, SettlementOut


def settlement_object(settlement: Settlement) -> dict[str, Any]:
    return SettlementOut.from_orm(settlement).model_dump(mode="json")


def discrepancy_object(discrepancy: Discrepancy) -> dict[str, Any]:
    return DiscrepancyOut.from_orm(discrepancy).model_dump(mode="json")
