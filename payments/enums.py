"""The closed sets of the payments app (Saleor's `ChargeStatus`/`TransactionKind` style), and the
amount limits. Stored values, JSON bodies and the OpenAPI document use the enums' values, which are
the strings they always were: a `StrEnum` member *is* its string (`PaymentStatus.SUCCEEDED ==
"succeeded"`), so it can be stored, compared and serialised as one.

Services, forms, schemas, template tags and tests import these instead of retyping the strings;
other apps (dashboard, reconciliation, compliance, costs) may too: this module imports nothing of
the project."""

from __future__ import annotations

from enum import StrEnum

# Every amount (authorized, captured, refunded) in the currency's minor unit.
MIN_AMOUNT, MAX_AMOUNT = 1, 99_999_999


class PaymentStatus(StrEnum):
    PROCESSING = "processing"  # the processor did not answer in time; recovery asks it and moves the payment on
    REQUIRES_CAPTURE = "requires_capture"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"


# Statuses a payment can be refunded from (money was captured and not all of it went back).
REFUNDABLE_STATUSES = (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED)


class TransactionKind(StrEnum):
    """What one ledger entry (`Transaction.kind`, `type` in the API) records."""

    AUTHORIZATION = "authorization"
    CAPTURE = "capture"
    REFUND = "refund"
    CANCEL = "cancel"
    SETTLEMENT = "settlement"
    DISPUTE = "dispute"  # the disputed amount, debited when a dispute opens
    DISPUTE_FEE = "dispute_fee"  # the processor's fee for the dispute, debited with it
    DISPUTE_REVERSAL = "dispute_reversal"  # the disputed amount credited back: the dispute was won


class TransactionStatus(StrEnum):
    """Whether a ledger entry's movement happened (a declined authorization is `failed`)."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"


class RefundReason(StrEnum):
    REQUESTED_BY_CUSTOMER = "requested_by_customer"
    DUPLICATE = "duplicate"
    FRAUDULENT = "fraudulent"


class RefundRequestStatus(StrEnum):
    """Where a refund request (four-eyes approval) stands. `expired`: nobody decided within its
    lifetime; a pending request past `expires_at` reads as expired before a sweep marks it."""

    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"


# The dispute status (`Payment.dispute_status`, the disputes app's `DisputeStatus.WON`) after which a
# disputed payment can be refunded again; under any other (open, lost, accepted) refunds are refused.
DISPUTE_WON = "won"

# The failure code of a payment the processor never received (nothing was charged).
NEVER_RECEIVED = "processor_timeout"


def values(members: type[StrEnum]) -> tuple[str, ...]:
    """The plain strings of an enum, in definition order (for `Literal[...]` schema types, whose
    OpenAPI `enum` must list exactly these)."""
    return tuple(member.value for member in members)
