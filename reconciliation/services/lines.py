"""One chunk of settlement lines: read the claims and payments the chunk names in one batch, judge
every line, settle the matched payments, and build the items the chunk writes (lines,
discrepancies, claims). Every item has a deterministic key, so a chunk done again after a crash
writes the same items.

No one row can fail the chunk: what a discrepancy stores is bounded (the row's cells are cut when
read, the detail here), and the chunk writes each key once, as BatchWriteItem requires."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.batch import batch_get
from payments.selectors import payment_batch_read
from reconciliation import csvfile
from reconciliation.enums import Outcome
from reconciliation.matching import (
    PaymentFacts,
    Verdict,
    claim_key,
    discrepancy_id_for,
    duplicate_judge,
    invalid_row_verdict,
    line_judge,
    settles,
)
from reconciliation.models import Discrepancy, Settlement, SettlementKey, SettlementLine, SettlementLineChunk
from reconciliation.services.settling import settle_all

MAX_DETAIL = 500  # characters of a discrepancy's detail
SETTLED_FIELDS = ["settlement_line"]  # read besides what settling reads: the line that settled it


@dataclass
class Progress:
    """What is saved with `rows_processed` after each chunk."""

    counts: dict[str, int]
    totals: dict[str, dict[str, int]]
    period_start: str | None
    period_end: str | None
    period_given: bool
    payment_counts: dict[str, int] = field(default_factory=dict)  # lines in `totals` per currency

    @classmethod
    def of(cls, settlement: Settlement) -> Progress:
        counts = {outcome.value: 0 for outcome in Outcome}
        counts.update({k: int(v) for k, v in (settlement.counts or {}).items()})
        totals = {c: {k: int(v) for k, v in t.items()} for c, t in (settlement.totals or {}).items()}
        payment_counts = {c: int(n) for c, n in (settlement.payment_counts or {}).items()}
        return cls(
            counts,
            totals,
            settlement.period_start,
            settlement.period_end,
            bool(settlement.period_given),
            payment_counts,
        )

    def add_line(self, line: csvfile.Line) -> None:
        total = self.totals.setdefault(line.currency, {"gross": 0, "fees": 0, "net": 0})
        total["gross"] += line.amount
        total["fees"] += line.fee
        total["net"] += line.net
        self.payment_counts[line.currency] = self.payment_counts.get(line.currency, 0) + 1
        if not self.period_given:
            day = line.settled_on.isoformat()
            self.period_start = min(self.period_start or day, day)
            self.period_end = max(self.period_end or day, day)


@dataclass
class Chunk:
    lines: list[SettlementLineChunk] = field(default_factory=list)  # one item: the chunk's lines
    discrepancies: list[Discrepancy] = field(default_factory=list)
    claims_by_key: dict[str, SettlementKey] = field(default_factory=dict)
    to_settle: list[tuple[csvfile.Line, PaymentFacts]] = field(default_factory=list)

    def claim(self, claim: SettlementKey) -> None:
        """A valid line's claim replaces the `named_only` claim an invalid row of the chunk made for
        the same payment (as it replaces one an earlier chunk wrote)."""
        self.claims_by_key[claim.key] = claim

    @property
    def claims(self) -> list[SettlementKey]:
        return list(self.claims_by_key.values())


def discrepancy_for(
    settlement: Settlement, verdict: Verdict, *, line: int | None, payment_id: str | None
) -> Discrepancy:
    return Discrepancy(
        settlement_id=settlement.settlement_id,
        discrepancy_id=discrepancy_id_for(settlement_created=settlement.created, line=line, payment_id=payment_id),
        merchant_id=settlement.merchant_id,
        settlement_kind=f"{settlement.settlement_id}#{verdict.outcome}",
        kind=str(verdict.outcome),
        line=line,
        payment_id=payment_id,
        expected=verdict.expected,
        actual=verdict.actual,
        detail=verdict.detail if len(verdict.detail) <= MAX_DETAIL else verdict.detail[: MAX_DETAIL - 1] + "…",
    )


Parsed = list[tuple[csvfile.Row, csvfile.Line | None, str | None]]


def _parse(rows: list[csvfile.Row], at: datetime) -> Parsed:
    parsed: Parsed = []
    for row in rows:
        try:
            parsed.append((row, csvfile.line_parse(row, now=at), None))
        except csvfile.RowInvalid as reason:
            parsed.append((row, None, str(reason)))
    return parsed


class ClaimsSeen:
    """The claim items this run of a file wrote, by payment id, when the run began at the file's first
    row. Then every claim of the file on an earlier line than the chunk being judged was written by
    this run (a run that died before its first progress save wrote claims for its first chunk's
    lines only, and a line's own claim is no earlier line), so chunks read no claims, only payments:
    half the keys. A resumed run reads them, as does one past `LIMIT` claims (bounded memory)."""

    LIMIT = 20_000

    def __init__(self, *, first_row: bool):
        self.claims: dict[str, SettlementKey] | None = {} if first_row else None

    def add(self, claims: list[SettlementKey]) -> None:
        """Claims the run has written (after the write)."""
        if self.claims is None:
            return
        if len(self.claims) + len(claims) > self.LIMIT:
            self.claims = None
            return
        self.claims.update((claim.key.rsplit("#", 1)[1], claim) for claim in claims)


def _read(
    settlement_id: str, parsed: Parsed, seen: ClaimsSeen | None = None
) -> tuple[dict[str, SettlementKey], dict[str, Any]]:
    """The claims of every payment the chunk names and the payments of its valid lines, in one batch;
    the claims from `seen` when it holds them all."""
    ids = list(dict.fromkeys(line.payment_id for _, line, _ in parsed if line is not None))
    named_ids = [
        row.cells["payment_id"]
        for row, line, _ in parsed
        if line is None and csvfile.is_payment_reference(row.cells["payment_id"])
    ]
    claim_ids = list(dict.fromkeys([*ids, *named_ids]))
    payments_read = payment_batch_read(payment_ids=ids)
    known = seen.claims if seen is not None else None
    keys: list[tuple[Any, dict[str, Any]]] = []
    if known is None:
        keys = [(SettlementKey, {"key": claim_key(settlement_id=settlement_id, payment_id=p)}) for p in claim_ids]
    fields = {model: [*names, *SETTLED_FIELDS] for model, names in payments_read.fields.items()}
    items = batch_get([*keys, *payments_read.keys], fields=fields)
    if known is None:
        claims = {item.key.rsplit("#", 1)[1]: item for item in items if isinstance(item, SettlementKey)}
    else:
        claims = {payment_id: known[payment_id] for payment_id in claim_ids if payment_id in known}
    return claims, payments_read.payments(items)


def claimed_on(settlement_id: str, payment: Any, claim: SettlementKey | None) -> tuple[int | None, bool]:
    """The line that first named a payment in this file, and whether that was an invalid row only.
    A payment this file settled carries its line (`settlement_line`, written in the settling
    transaction: no claim item for it); any other named payment has a claim item."""
    if payment is not None and payment.settlement_id == settlement_id and payment.settlement_line is not None:
        return int(payment.settlement_line), False
    if claim is None:
        return None, False
    return (int(claim.line) if claim.line is not None else None), bool(claim.named_only)


def chunk_process(
    settlement: Settlement, rows: list[csvfile.Row], progress: Progress, at: datetime, seen: ClaimsSeen | None = None
) -> Chunk:
    """Judge and settle a chunk's rows and build what it writes; the claims of earlier chunks come
    from `seen` when it holds them (`ClaimsSeen`), else from DynamoDB."""
    sid, merchant_id = settlement.settlement_id, settlement.merchant_id
    parsed = _parse(rows, at)
    claims, payments = _read(sid, parsed, seen)

    chunk = Chunk()
    verdicts: dict[int, Verdict] = {}
    first_line: dict[str, int] = {}
    named: set[str] = set()
    for row, line, reason in parsed:
        if line is None:
            verdicts[row.line] = invalid_row_verdict(row, reason or "")
            reference = row.cells["payment_id"]
            if csvfile.is_payment_reference(reference) and reference not in first_line and reference not in named:
                if reference not in claims and claimed_on(sid, payments.get(reference), None)[0] is None:
                    chunk.claim(
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
        payment = payments.get(line.payment_id)
        earlier, named_only = claimed_on(sid, payment, claims.get(line.payment_id))
        duplicate = duplicate_judge(
            line, named_in_chunk=first_line.get(line.payment_id), claimed_on=earlier, claim_named_only=named_only
        )
        if duplicate is not None:
            verdicts[line.line] = duplicate
            continue
        first_line[line.payment_id] = line.line
        verdict = line_judge(line, payment, merchant_id=merchant_id, settlement_id=sid)
        verdicts[line.line] = verdict
        if settles(verdict, payment, settlement_id=sid):
            chunk.to_settle.append((line, payment))

    verdicts.update(settle_all(settlement, chunk.to_settle, at))

    # A line that settled its payment claimed it there; every other first line claims it with an item.
    for payment_id, number in first_line.items():
        if verdicts[number].outcome != Outcome.MATCHED:
            chunk.claim(
                SettlementKey(key=claim_key(settlement_id=sid, payment_id=payment_id), settlement_id=sid, line=number)
            )

    packed = []
    for row, line, _ in parsed:
        verdict = verdicts[row.line]
        progress.counts[verdict.outcome] += 1
        packed.append(
            SettlementLine(
                settlement_id=sid,
                line=row.line,
                merchant_id=merchant_id,
                payment_id=(line.payment_id if line else row.cells.get("payment_id", "")[:64]) or None,
                outcome=str(verdict.outcome),
                amount=line.amount if line else None,
                fee=line.fee if line else None,
                net=line.net if line else None,
                currency=line.currency if line else None,
                status=line.status if line else None,
                settled_at=line.settled_at if line else None,
            ).packed()
        )
        if verdict.outcome != Outcome.MATCHED:
            payment_id = line.payment_id if line else (row.cells.get("payment_id") or "")[:64] or None
            chunk.discrepancies.append(discrepancy_for(settlement, verdict, line=row.line, payment_id=payment_id))
    if packed:
        chunk.lines.append(
            SettlementLineChunk(settlement_id=sid, line=packed[0][0], merchant_id=merchant_id, rows=packed)
        )
    return chunk
