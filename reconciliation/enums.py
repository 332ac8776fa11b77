"""The closed sets of the reconciliation app. Stored values and JSON bodies are these strings; code,
schemas and tests use the members instead of retyping them."""

from __future__ import annotations

from enum import StrEnum


class SettlementStatus(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"


class Phase(StrEnum):
    """Where processing of a settlement is: its lines, then the payments no line named, then done."""

    LINES = "lines"
    MISSING = "missing"
    DONE = "done"


class Source(StrEnum):
    """How a settlement file arrived."""

    UPLOAD = "upload"
    API = "api"
    S3 = "s3"


class LineStatus(StrEnum):
    """The `status` column of a settlement file."""

    SETTLED = "settled"
    REFUNDED = "refunded"


class Kind(StrEnum):
    """What is wrong with a line or a payment: a discrepancy's `kind` (in the order API.md lists them)."""

    MISSING_IN_PLATFORM = "missing_in_platform"
    MISSING_IN_FILE = "missing_in_file"
    AMOUNT_MISMATCH = "amount_mismatch"
    CURRENCY_MISMATCH = "currency_mismatch"
    STATUS_MISMATCH = "status_mismatch"
    DUPLICATE_LINE = "duplicate_line"
    FEE_MISMATCH = "fee_mismatch"
    INVALID_ROW = "invalid_row"

    @property
    def label(self) -> str:
        """What the pages call the kind: `amount_mismatch` -> "Amount differs"."""
        return KIND_LABELS[self]


KIND_LABELS = {
    Kind.MISSING_IN_PLATFORM: "Unknown payment",
    Kind.MISSING_IN_FILE: "Missing from file",
    Kind.AMOUNT_MISMATCH: "Amount differs",
    Kind.CURRENCY_MISMATCH: "Currency differs",
    Kind.STATUS_MISMATCH: "Status differs",
    Kind.DUPLICATE_LINE: "Duplicate line",
    Kind.FEE_MISMATCH: "Fee does not add up",
    Kind.INVALID_ROW: "Unreadable row",
}

# The outcome of a line: matched, or the kind of its discrepancy. These are the keys of a settlement's
# `counts`, in this order. Built from `Kind` so no kind is typed twice (`Outcome.FEE_MISMATCH == Kind.FEE_MISMATCH`).
Outcome = StrEnum("Outcome", [("MATCHED", "matched"), *((kind.name, kind.value) for kind in Kind)])
