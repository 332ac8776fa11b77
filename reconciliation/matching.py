"""The matching rules of reconciliation: what a settlement line says of a payment, the details a
discrepancy gives, and the deterministic ids of what processing writes. Pure: no storage, no clock."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from ulid import ULID

from payments.enums import PaymentStatus
from reconciliation import csvfile
from reconciliation.enums import Kind, LineStatus, Outcome

# Which payment statuses a line status settles.
SETTLEABLE: dict[str, tuple[PaymentStatus, ...]] = {
    LineStatus.SETTLED: (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED),
    LineStatus.REFUNDED: (PaymentStatus.REFUNDED, PaymentStatus.PARTIALLY_REFUNDED),
}


class PaymentFacts(Protocol):
    """What matching reads of a payment (`payments.selectors.payment_batch_read` projects these)."""

    payment_id: str
    merchant_id: str
    status: str
    currency: str
    amount_captured: int | None
    settlement_id: str | None


class CapturedPaymentFacts(PaymentFacts, Protocol):
    created: datetime


# --- deterministic ids -----------------------------------------------------------------------------


def claim_key(*, settlement_id: str, payment_id: str) -> str:
    return f"claim#{settlement_id}#{payment_id}"


def _ulid(at: datetime, randomness: bytes) -> str:
    millis = int(at.timestamp() * 1000)
    return str(ULID.from_bytes(millis.to_bytes(6, "big") + randomness))


def discrepancy_id_for(*, settlement_created: datetime, line: int | None = None, payment_id: str | None = None) -> str:
    """Deterministic, in line order; `missing_in_file` ones after every line, by payment time."""
    if line is not None:
        return "dis_" + _ulid(settlement_created, line.to_bytes(10, "big"))
    assert payment_id is not None
    body = payment_id.split("_", 1)[-1]
    try:
        payment_time = ULID.from_str(body).bytes[:6]
    except ValueError:
        payment_time = b"\x00" * 6
    return "dis_" + _ulid(settlement_created, b"\xff" + payment_time + hashlib.sha256(payment_id.encode()).digest()[:3])


def ledger_id_for(*, settlement_id: str, settlement_created: datetime, payment_id: str) -> str:
    """The settlement ledger entry of a payment: one per settlement and payment."""
    return "txn_" + _ulid(settlement_created, hashlib.sha256(f"{settlement_id}#{payment_id}".encode()).digest()[:10])


def payout_id_for(*, settlement_id: str, settlement_created: datetime, currency: str) -> str:
    """The payout of a settlement's currency: one per settlement and currency."""
    return "po_" + _ulid(
        settlement_created, hashlib.sha256(f"payout#{settlement_id}#{currency}".encode()).digest()[:10]
    )


# --- verdicts --------------------------------------------------------------------------------------


@dataclass
class Verdict:
    outcome: str  # an Outcome
    expected: Any = None
    actual: Any = None
    detail: str = ""


def money_text(amount: int, currency: str) -> str:
    """2500, "usd" -> "25.00 USD" (discrepancy details)."""
    return f"{csvfile.major_units(amount, currency)} {currency.upper()}"


def ledger_reason(line: csvfile.Line) -> str:
    """What the settlement ledger entry says of a line: "fee 0.75, net 24.25"."""
    return f"fee {csvfile.major_units(line.fee, line.currency)}, net {csvfile.major_units(line.net, line.currency)}"


def invalid_row_verdict(row: csvfile.Row, reason: str) -> Verdict:
    return Verdict(Kind.INVALID_ROW, None, dict(row.cells), f"Line {row.line}: {reason}.")


def duplicate_judge(
    line: csvfile.Line, *, named_in_chunk: int | None, claimed_on: int | None, claim_named_only: bool = False
) -> Verdict | None:
    """`duplicate_line` when an earlier line named the same payment: one earlier in this chunk, or the
    claim an earlier chunk wrote (`claimed_on`). A claim of an invalid row (`claim_named_only`) is
    no earlier line, nor is this line's own claim when a chunk is done again after a crash."""
    earlier = named_in_chunk
    if earlier is None and claimed_on is not None and not claim_named_only and claimed_on < line.line:
        earlier = claimed_on
    if earlier is None:
        return None
    return Verdict(
        Kind.DUPLICATE_LINE, earlier, line.line, f"Payment {line.payment_id} was already named on line {earlier}."
    )


def line_judge(line: csvfile.Line, payment: PaymentFacts | None, *, merchant_id: str, settlement_id: str) -> Verdict:
    """The outcome of one line that is not a duplicate (rules in API.md, first failing one wins)."""
    if payment is None or payment.merchant_id != merchant_id:
        return Verdict(
            Kind.MISSING_IN_PLATFORM, None, line.payment_id, f"No payment {line.payment_id} exists for this merchant."
        )
    if payment.currency != line.currency:
        return Verdict(
            Kind.CURRENCY_MISMATCH,
            payment.currency,
            line.currency,
            f"The file says {line.currency.upper()}; payment {payment.payment_id} is in {payment.currency.upper()}.",
        )
    if payment.settlement_id and payment.settlement_id != settlement_id:
        return Verdict(
            Kind.STATUS_MISMATCH,
            "unsettled",
            line.status,
            f"Payment {payment.payment_id} was already settled by {payment.settlement_id}.",
        )
    if payment.status not in SETTLEABLE[line.status]:
        return Verdict(
            Kind.STATUS_MISMATCH,
            payment.status,
            line.status,
            f"The file says {line.status}; payment {payment.payment_id} is {payment.status.replace('_', ' ')}.",
        )
    captured = int(payment.amount_captured or 0)
    if line.amount != captured:
        return Verdict(
            Kind.AMOUNT_MISMATCH,
            captured,
            line.amount,
            f"The file says {money_text(line.amount, line.currency)}; payment {payment.payment_id} captured "
            f"{money_text(captured, line.currency)}.",
        )
    if line.amount - line.fee != line.net:
        return Verdict(
            Kind.FEE_MISMATCH,
            line.amount - line.fee,
            line.net,
            f"Amount {money_text(line.amount, line.currency)} minus fee {money_text(line.fee, line.currency)} is "
            f"{money_text(line.amount - line.fee, line.currency)}, but net says {money_text(line.net, line.currency)}.",
        )
    return Verdict(Outcome.MATCHED)


def settles(verdict: Verdict, payment: PaymentFacts | None, *, settlement_id: str) -> bool:
    """Whether a judged line still has its payment to settle (a chunk done again finds it settled)."""
    return verdict.outcome == Outcome.MATCHED and payment is not None and payment.settlement_id != settlement_id


def missing_in_file_verdict(payment: CapturedPaymentFacts) -> Verdict:
    """A payment captured in the period that no line named."""
    amount = int(payment.amount_captured or 0)
    return Verdict(
        Kind.MISSING_IN_FILE,
        amount,
        None,
        f"Payment {payment.payment_id} ({money_text(amount, payment.currency)}, {payment.status.replace('_', ' ')}, "
        f"{payment.created:%Y-%m-%d}) was captured in the period but no line names it.",
    )
