"""Processing a stored settlement file: stream it row by row in chunks of 100, match each line
against the merchant's payments, record lines, discrepancies and settlement ledger entries, and
save progress after every chunk.

Resumable without duplicates: every item written has a deterministic key (a line by its number, a
discrepancy by its line, a claim by its payment, a ledger entry by settlement and payment), a
payment is marked settled with a condition, and `rows_processed`, `counts` and `totals` move
together in one version-checked update after the chunk's writes. A run that dies mid-chunk
re-does that chunk and writes the same items again."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite
from ulid import ULID

from audit.services import audit_condition, audit_event_new, audit_record
from core import dynamodb
from core.actor import SYSTEM, Actor
from core.ids import is_id, now
from payments.models import Payment, Transaction
from reconciliation import csvfile
from reconciliation.batch import batch_get, batch_put
from reconciliation.errors import SettlementNotFound
from reconciliation.models import OUTCOMES, Discrepancy, Settlement, SettlementKey, SettlementLine
from reconciliation.representations import settlement_object
from reconciliation.selectors import captured_payments_in_period
from reconciliation.storage import settlement_storage
from webhooks.services import webhook_event_condition, webhook_event_new
from webhooks.tasks import webhook_delivery_enqueue

logger = logging.getLogger(__name__)

CHUNK_ROWS = 100
SETTLE_PER_TRANSACTION = (
    33  # three items per payment (payment, ledger entry, audit event); TransactWriteItems takes 100
)
MAX_CONFLICT_RETRIES = 3
# Which payment statuses a line status settles.
SETTLEABLE = {"settled": ("succeeded", "partially_refunded"), "refunded": ("refunded", "partially_refunded")}
# What matching reads of a payment (`version` for the version-checked update).
PAYMENT_FIELDS = ["payment_id", "merchant_id", "status", "currency", "amount_captured", "settlement_id", "version"]
MISSING_PAGE = 500


def claim_key(*, settlement_id: str, payment_id: str) -> str:
    return f"claim#{settlement_id}#{payment_id}"


def _ulid(at: datetime, randomness: bytes) -> str:
    millis = int(at.timestamp() * 1000)
    return str(ULID.from_bytes(millis.to_bytes(6, "big") + randomness))


def discrepancy_id_for(settlement: Settlement, *, line: int | None = None, payment_id: str | None = None) -> str:
    """Deterministic, in line order; `missing_in_file` ones after every line, by payment time."""
    if line is not None:
        return "dis_" + _ulid(settlement.created, line.to_bytes(10, "big"))
    assert payment_id is not None
    body = payment_id.split("_", 1)[-1]
    try:
        payment_time = ULID.from_str(body).bytes[:6]
    except ValueError:
        payment_time = b"\x00" * 6
    return "dis_" + _ulid(settlement.created, b"\xff" + payment_time + hashlib.sha256(payment_id.encode()).digest()[:3])


def ledger_id_for(settlement: Settlement, payment_id: str) -> str:
    return "txn_" + _ulid(
        settlement.created, hashlib.sha256(f"{settlement.settlement_id}#{payment_id}".encode()).digest()[:10]
    )


@dataclass
class Verdict:
    outcome: str
    expected: Any = None
    actual: Any = None
    detail: str = ""


def _money(amount: int, currency: str) -> str:
    return f"{csvfile.major_units(amount, currency)} {currency.upper()}"


def line_judge(line: csvfile.Line, payment: Payment | None, *, merchant_id: str, settlement_id: str) -> Verdict:
    """The outcome of one line that is not a duplicate (rules in API.md, first failing one wins)."""
    if payment is None or payment.merchant_id != merchant_id:
        return Verdict(
            "missing_in_platform", None, line.payment_id, f"No payment {line.payment_id} exists for this merchant."
        )
    if payment.currency != line.currency:
        return Verdict(
            "currency_mismatch",
            payment.currency,
            line.currency,
            f"The file says {line.currency.upper()}; payment {payment.payment_id} is in {payment.currency.upper()}.",
        )
    if payment.settlement_id and payment.settlement_id != settlement_id:
        return Verdict(
            "status_mismatch",
            "unsettled",
            line.status,
            f"Payment {payment.payment_id} was already settled by {payment.settlement_id}.",
        )
    if payment.status not in SETTLEABLE[line.status]:
        return Verdict(
            "status_mismatch",
            payment.status,
            line.status,
            f"The file says {line.status}; payment {payment.payment_id} is {payment.status.replace('_', ' ')}.",
        )
    captured = int(payment.amount_captured or 0)
    if line.amount != captured:
        return Verdict(
            "amount_mismatch",
            captured,
            line.amount,
            f"The file says {_money(line.amount, line.currency)}; payment {payment.payment_id} captured "
            f"{_money(captured, line.currency)}.",
        )
    if line.amount - line.fee != line.net:
        return Verdict(
            "fee_mismatch",
            line.amount - line.fee,
            line.net,
            f"Amount {_money(line.amount, line.currency)} minus fee {_money(line.fee, line.currency)} is "
            f"{_money(line.amount - line.fee, line.currency)}, but net says {_money(line.net, line.currency)}.",
        )
    return Verdict("matched")


@dataclass
class Progress:
    """What is saved with `rows_processed` after each chunk."""

    counts: dict[str, int]
    totals: dict[str, dict[str, int]]
    period_start: str | None
    period_end: str | None
    period_given: bool

    @classmethod
    def of(cls, settlement: Settlement) -> Progress:
        counts = {outcome: 0 for outcome in OUTCOMES}
        counts.update({k: int(v) for k, v in (settlement.counts or {}).items()})
        totals = {c: {k: int(v) for k, v in t.items()} for c, t in (settlement.totals or {}).items()}
        return cls(counts, totals, settlement.period_start, settlement.period_end, bool(settlement.period_given))

    def add_line(self, line: csvfile.Line) -> None:
        total = self.totals.setdefault(line.currency, {"gross": 0, "fees": 0, "net": 0})
        total["gross"] += line.amount
        total["fees"] += line.fee
        total["net"] += line.net
        if not self.period_given:
            day = line.settled_on.isoformat()
            self.period_start = min(self.period_start or day, day)
            self.period_end = max(self.period_end or day, day)


@dataclass
class Chunk:
    lines: list[SettlementLine] = field(default_factory=list)
    discrepancies: list[Discrepancy] = field(default_factory=list)
    claims: list[SettlementKey] = field(default_factory=list)
    to_settle: list[tuple[csvfile.Line, Payment]] = field(default_factory=list)


def _discrepancy(settlement: Settlement, verdict: Verdict, *, line: int | None, payment_id: str | None) -> Discrepancy:
    return Discrepancy(
        settlement_id=settlement.settlement_id,
        discrepancy_id=discrepancy_id_for(settlement, line=line, payment_id=payment_id),
        merchant_id=settlement.merchant_id,
        settlement_kind=f"{settlement.settlement_id}#{verdict.outcome}",
        kind=verdict.outcome,
        line=line,
        payment_id=payment_id,
        expected=verdict.expected,
        actual=verdict.actual,
        detail=verdict.detail,
    )


def _settle(settlement: Settlement, pairs: list[tuple[csvfile.Line, Payment]], at: datetime) -> None:
    """Mark payments settled with their ledger entry, version-checked, many per transaction."""
    with TransactWrite(connection=dynamodb.connection()) as transaction:
        for line, payment in pairs:
            transaction.update(
                payment,
                actions=[Payment.settlement_id.set(settlement.settlement_id), Payment.updated.set(at)],
                condition=Payment.settlement_id.does_not_exist() & Payment.status.is_in(*SETTLEABLE[line.status]),
            )
            transaction.save(
                Transaction(
                    payment_id=payment.payment_id,
                    txn_id=ledger_id_for(settlement, payment.payment_id),
                    merchant_id=payment.merchant_id,
                    kind="settlement",
                    amount=line.amount,
                    currency=line.currency,
                    status="succeeded",
                    reason=f"fee {csvfile.major_units(line.fee, line.currency)}, net {csvfile.major_units(line.net, line.currency)}",
                    settlement_id=settlement.settlement_id,
                    created=at,
                ),
                condition=Transaction.txn_id.does_not_exist(),
            )
            transaction.save(
                audit_event_new(
                    merchant_id=payment.merchant_id,
                    actor=SYSTEM,
                    action="payment.settle",
                    entity_type="payment",
                    entity_id=payment.payment_id,
                    before={"settlement_id": None},
                    after={"settlement_id": settlement.settlement_id, "amount": line.amount, "currency": line.currency},
                    at=at,
                ),
                condition=audit_condition(),
            )


def _settle_all(settlement: Settlement, chunk: Chunk, verdicts: dict[int, Verdict], at: datetime) -> None:
    pending = chunk.to_settle
    for start in range(0, len(pending), SETTLE_PER_TRANSACTION):
        group = pending[start : start + SETTLE_PER_TRANSACTION]
        try:
            _settle(settlement, group, at)
            continue
        except TransactWriteError:
            logger.info(
                "settlement %s: a payment changed while settling; settling one by one", settlement.settlement_id
            )
        for line, _ in group:
            verdicts[line.line] = _settle_one(settlement, line, at)


def _settle_one(settlement: Settlement, line: csvfile.Line, at: datetime) -> Verdict:
    """Re-read a payment that changed under us, judge the line again and settle it alone."""
    for attempt in range(MAX_CONFLICT_RETRIES + 1):
        found = (
            batch_get([(Payment, {"payment_id": line.payment_id})], fields={Payment: PAYMENT_FIELDS})
            if is_id(line.payment_id, "pay")
            else []
        )
        payment = found[0] if found else None
        verdict = line_judge(line, payment, merchant_id=settlement.merchant_id, settlement_id=settlement.settlement_id)
        if verdict.outcome != "matched" or payment is None or payment.settlement_id == settlement.settlement_id:
            return verdict
        try:
            _settle(settlement, [(line, payment)], at)
            return verdict
        except TransactWriteError:
            if attempt == MAX_CONFLICT_RETRIES:
                raise
    raise AssertionError("unreachable")


def _chunk_process(settlement: Settlement, rows: list[csvfile.Row], progress: Progress, at: datetime) -> Chunk:
    sid, merchant_id = settlement.settlement_id, settlement.merchant_id
    parsed: list[tuple[csvfile.Row, csvfile.Line | None, str | None]] = []
    for row in rows:
        try:
            parsed.append((row, csvfile.line_parse(row, now=at), None))
        except csvfile.RowInvalid as reason:
            parsed.append((row, None, str(reason)))

    ids = list(dict.fromkeys(line.payment_id for _, line, _ in parsed if line is not None))
    named_ids = [
        row.cells["payment_id"]
        for row, line, _ in parsed
        if line is None and csvfile.is_payment_reference(row.cells["payment_id"])
    ]
    claim_ids = list(dict.fromkeys([*ids, *named_ids]))
    keys: list[tuple[Any, dict[str, Any]]] = [
        (SettlementKey, {"key": claim_key(settlement_id=sid, payment_id=p)}) for p in claim_ids
    ]
    keys += [(Payment, {"payment_id": p}) for p in ids if is_id(p, "pay")]
    claims: dict[str, SettlementKey] = {}
    payments: dict[str, Payment] = {}
    for item in batch_get(keys, fields={Payment: PAYMENT_FIELDS}):
        if isinstance(item, SettlementKey):
            claims[item.key.rsplit("#", 1)[1]] = item
        else:
            payments[item.payment_id] = item

    chunk = Chunk()
    verdicts: dict[int, Verdict] = {}
    first_line: dict[str, int] = {}
    named: set[str] = set()
    for row, line, reason in parsed:
        if line is None:
            verdicts[row.line] = Verdict("invalid_row", None, dict(row.cells), f"Line {row.line}: {reason}.")
            reference = row.cells["payment_id"]
            if csvfile.is_payment_reference(reference) and reference not in first_line and reference not in named:
                if reference not in claims:
                    chunk.claims.append(
                        SettlementKey(
                            key=claim_key(settlement_id=sid, payment_id=reference),
                            settlement_id=sid,
                            line=row.line,
                            named_only=True,
                        )
                    )
                named.add(reference)
            continue
        progress.add_line(line)
        claim = claims.get(line.payment_id)
        earlier = first_line.get(line.payment_id)
        if earlier is None and claim is not None and not claim.named_only and claim.line < line.line:
            earlier = int(claim.line)
        if earlier is not None:
            verdicts[line.line] = Verdict(
                "duplicate_line", earlier, line.line, f"Payment {line.payment_id} was already named on line {earlier}."
            )
            continue
        first_line[line.payment_id] = line.line
        chunk.claims.append(
            SettlementKey(
                key=claim_key(settlement_id=sid, payment_id=line.payment_id), settlement_id=sid, line=line.line
            )
        )
        payment = payments.get(line.payment_id)
        verdict = line_judge(line, payment, merchant_id=merchant_id, settlement_id=sid)
        verdicts[line.line] = verdict
        if verdict.outcome == "matched" and payment is not None and payment.settlement_id != sid:
            chunk.to_settle.append((line, payment))

    _settle_all(settlement, chunk, verdicts, at)

    for row, line, _ in parsed:
        verdict = verdicts[row.line]
        progress.counts[verdict.outcome] += 1
        chunk.lines.append(
            SettlementLine(
                settlement_id=sid,
                line=row.line,
                merchant_id=merchant_id,
                payment_id=(line.payment_id if line else row.cells.get("payment_id", "")[:64]) or None,
                outcome=verdict.outcome,
                amount=line.amount if line else None,
                fee=line.fee if line else None,
                net=line.net if line else None,
                currency=line.currency if line else None,
                status=line.status if line else None,
                settled_at=line.settled_at if line else None,
            )
        )
        if verdict.outcome != "matched":
            payment_id = line.payment_id if line else (row.cells.get("payment_id") or "")[:64] or None
            chunk.discrepancies.append(_discrepancy(settlement, verdict, line=row.line, payment_id=payment_id))
    return chunk


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _progress_save(settlement: Settlement, progress: Progress, **more: Any) -> None:
    actions = [
        Settlement.counts.set(progress.counts),
        Settlement.totals.set(progress.totals),
        *(getattr(Settlement, name).set(value) for name, value in more.items()),
    ]
    if progress.period_start is not None:
        actions += [Settlement.period_start.set(progress.period_start), Settlement.period_end.set(progress.period_end)]
    settlement.update(actions=actions)  # version-checked: a second worker on the same file stops here


def _lines_phase(settlement: Settlement, progress: Progress) -> None:
    storage = settlement_storage()
    with storage.open(settlement.storage_name, "rb") as file:
        rows = csvfile.rows_read(file, skip=int(settlement.rows_processed))
        try:
            for rows_chunk in _chunks(rows, CHUNK_ROWS):
                at = now()
                chunk = _chunk_process(settlement, rows_chunk, progress, at)
                batch_put([*chunk.lines, *chunk.discrepancies, *chunk.claims])
                _progress_save(settlement, progress, rows_processed=int(settlement.rows_processed) + len(rows_chunk))
        finally:
            rows.close()


def _missing_phase(settlement: Settlement, progress: Progress) -> None:
    """`missing_in_file`: captured payments of the merchant created in the period that no line
    named. Read from the by-merchant-status index (captured statuses only, ULID key bounds, a few
    attributes); a payment settled by this file was named, one settled by another file is left
    alone, and for the rest the claims tell. Saved every 500 payments with a resumable cursor."""
    if progress.period_start is None or progress.period_end is None:
        return
    start = datetime.combine(date.fromisoformat(progress.period_start), time.min, tzinfo=UTC)
    end = datetime.combine(date.fromisoformat(progress.period_end), time.min, tzinfo=UTC) + timedelta(days=1)
    sid = settlement.settlement_id
    payments = captured_payments_in_period(
        merchant_id=settlement.merchant_id, created_gte=start, created_lt=end, after=settlement.missing_cursor
    )
    for page in _chunks(payments, MISSING_PAGE):
        unsettled = [p for _, p in page if not p.settlement_id]
        named = {
            item.key.rsplit("#", 1)[1]
            for item in batch_get(
                [(SettlementKey, {"key": claim_key(settlement_id=sid, payment_id=p.payment_id)}) for p in unsettled]
            )
        }
        missing = []
        for payment in unsettled:
            if payment.payment_id in named:
                continue
            amount = int(payment.amount_captured)
            verdict = Verdict(
                "missing_in_file",
                amount,
                None,
                f"Payment {payment.payment_id} ({_money(amount, payment.currency)}, {payment.status.replace('_', ' ')}, "
                f"{payment.created:%Y-%m-%d}) was captured in the period but no line names it.",
            )
            missing.append(_discrepancy(settlement, verdict, line=None, payment_id=payment.payment_id))
        batch_put(missing)
        progress.counts["missing_in_file"] += len(missing)
        _progress_save(settlement, progress, missing_cursor=page[-1][0])


def settlement_process(*, merchant_id: str, settlement_id: str, actor: Actor = SYSTEM) -> Settlement:
    """Process (or resume processing) a settlement; a completed one is returned as it is."""
    settlement = Settlement.get(settlement_id, consistent_read=True) if settlement_id.startswith("set_") else None
    if settlement is None or settlement.merchant_id != merchant_id:
        raise SettlementNotFound(f"No settlement {settlement_id}.", param="id")
    if settlement.status == "completed":
        return settlement

    resumed = int(settlement.rows_processed) > 0 or settlement.phase != "lines"
    settlement.update(
        actions=[
            Settlement.status.set("processing"),
            Settlement.error.remove(),
            Settlement.started.set(settlement.started or now()),
        ]
    )
    audit_record(
        merchant_id=merchant_id,
        actor=actor,
        action="settlement.processing_started",
        entity_type="settlement",
        entity_id=settlement_id,
        detail=f"resumed after row {settlement.rows_processed}" if resumed else None,
    )
    progress = Progress.of(settlement)
    try:
        if settlement.phase == "lines":
            _lines_phase(settlement, progress)
            _progress_save(settlement, progress, phase="missing")
        if settlement.phase == "missing":
            _missing_phase(settlement, progress)
        _complete(settlement, progress, actor=actor)
    except Exception as error:
        logger.exception("settlement %s failed at row %s", settlement_id, settlement.rows_processed)
        _failed(settlement_id, error, actor=actor)
        raise
    return settlement


def _failed(settlement_id: str, error: Exception, *, actor: Actor) -> None:
    try:
        settlement = Settlement.get(settlement_id, consistent_read=True)
        settlement.update(
            actions=[Settlement.status.set("failed"), Settlement.error.set(str(error)[:500] or type(error).__name__)]
        )
        audit_record(
            merchant_id=settlement.merchant_id,
            actor=actor,
            action="settlement.processing_finished",
            entity_type="settlement",
            entity_id=settlement_id,
            outcome="failure",
            detail=f"{type(error).__name__}: {str(error)[:300]}",
        )
    except Exception:  # the original error matters more; the settlement stays resumable
        logger.exception("settlement %s: could not record the failure", settlement_id)


def settlement_completed_webhook(*, settlement: Settlement, at: datetime) -> Any:
    """The `settlement.completed` event (API.md, Webhooks) for the completing transaction: a pending
    delivery, or None when the merchant has no webhook URL."""
    return webhook_event_new(
        merchant_id=settlement.merchant_id,
        event_type="settlement.completed",
        entity_id=settlement.settlement_id,
        data_object=settlement_object(settlement),
        at=at,
    )


def _complete(settlement: Settlement, progress: Progress, *, actor: Actor) -> None:
    """Completed, its audit event and its webhook event in one transaction, then the delivery is queued."""
    at = now()
    settlement.status, settlement.completed, settlement.phase = "completed", at, "done"
    settlement.counts, settlement.totals = progress.counts, progress.totals
    settlement.period_start, settlement.period_end = progress.period_start, progress.period_end
    delivery = settlement_completed_webhook(settlement=settlement, at=at)
    actions = [
        Settlement.status.set("completed"),
        Settlement.completed.set(at),
        Settlement.phase.set("done"),
        Settlement.counts.set(progress.counts),
        Settlement.totals.set(progress.totals),
    ]
    event = audit_event_new(
        merchant_id=settlement.merchant_id,
        actor=actor,
        action="settlement.processing_finished",
        entity_type="settlement",
        entity_id=settlement.settlement_id,
        after={"rows_processed": int(settlement.rows_processed), "counts": progress.counts, "totals": progress.totals},
        at=at,
    )
    with TransactWrite(connection=dynamodb.connection()) as transaction:
        transaction.update(settlement, actions=actions)
        transaction.save(event, condition=audit_condition())
        if delivery is not None:
            transaction.save(delivery, condition=webhook_event_condition())
    if delivery is not None:
        webhook_delivery_enqueue(delivery=delivery)
