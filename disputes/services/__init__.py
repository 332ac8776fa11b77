"""Writes of disputes: opening one, its evidence, accepting it and the processor's decision.

`changes` holds what every change shares (its one transaction); `opening`, `evidence` and `closing`
the operations. Everything is re-exported here: callers import `disputes.services`."""

from disputes.services.changes import (
    DECISION_DELAY,
    EVIDENCE_DAYS,
    PROCESSOR,
    DisputeChange,
    DisputeHook,
    dispute_change_commit,
    dispute_fee,
)
from disputes.services.closing import SweepReport, dispute_accept, dispute_decide, disputes_sweep
from disputes.services.evidence import dispute_evidence_file_add, dispute_evidence_update
from disputes.services.opening import dispute_open

__all__ = [
    "DECISION_DELAY",
    "EVIDENCE_DAYS",
    "PROCESSOR",
    "DisputeChange",
    "DisputeHook",
    "SweepReport",
    "dispute_accept",
    "dispute_change_commit",
    "dispute_decide",
    "dispute_evidence_file_add",
    "dispute_evidence_update",
    "dispute_fee",
    "dispute_open",
    "disputes_sweep",
]
