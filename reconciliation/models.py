"""Settlement files, their lines and the discrepancies found in them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex

from core import dynamodb
from reconciliation.enums import Phase, SettlementStatus, Source


class SettlementsByMerchant(GlobalSecondaryIndex["Settlement"]):
    Meta = dynamodb.index_meta("by-merchant")

    merchant_id = UnicodeAttribute(hash_key=True)
    settlement_id = UnicodeAttribute(range_key=True)


class Settlement(dynamodb.TableModel):
    """One uploaded file. `rows_processed`, `totals`, `counts` and the period found so far are saved
    together after every chunk, so a resumed run continues exactly where the last one stopped."""

    Meta = dynamodb.meta("settlements")

    settlement_id = UnicodeAttribute(hash_key=True)
    merchant_id = UnicodeAttribute()
    status = UnicodeAttribute(default=SettlementStatus.QUEUED.value)  # a SettlementStatus
    filename = UnicodeAttribute()
    storage_name = UnicodeAttribute()
    sha256 = UnicodeAttribute()
    size = NumberAttribute(default=0)
    rows_total = NumberAttribute(default=0)
    rows_processed = NumberAttribute(default=0)
    period_start = UnicodeAttribute(null=True)
    period_end = UnicodeAttribute(null=True)
    period_given = BooleanAttribute(default=False)  # from the upload form, else the file's dates
    phase = UnicodeAttribute(default=Phase.LINES.value)  # a Phase
    missing_cursor = UnicodeAttribute(null=True)  # last payment id checked for missing_in_file
    totals = JSONAttribute(default=dict)
    counts = JSONAttribute(default=dict)
    # kind -> discrepancies resolved, added in the transaction that resolves them (open = counts - this);
    # {} on a new settlement, absent on those processed before the counters (`selectors.resolved_by_kind`
    # counts theirs). Written without `version` (services.resolution).
    resolved_counts = MapAttribute(null=True)
    payment_counts = JSONAttribute(null=True)  # lines in `totals` per currency: the payouts' payment_count
    error = UnicodeAttribute(null=True)
    uploaded_by = UnicodeAttribute(null=True)
    source = UnicodeAttribute(default=Source.UPLOAD.value)  # a Source
    created = UTCDateTimeAttribute()
    started = UTCDateTimeAttribute(null=True)
    completed = UTCDateTimeAttribute(null=True)
    version = VersionAttribute()

    by_merchant = SettlementsByMerchant()


class SettlementKey(dynamodb.TableModel):
    """Uniqueness items, written with conditions (a GSI cannot enforce uniqueness):

    - `file#<merchant_id>#<sha256>` -> the settlement of that file, so a re-upload (even a
      concurrent one) returns the same settlement;
    - `claim#<settlement_id>#<payment_id>` -> the first line naming that payment, so later lines are
      `duplicate_line` and `missing_in_file` knows which payments the file named, in constant memory.
      An invalid row that names a payment claims it `named_only`: the payment is not missing from the
      file, and the first valid line for it is still not a duplicate."""

    Meta = dynamodb.meta("settlement_keys")

    key = UnicodeAttribute(hash_key=True)
    settlement_id = UnicodeAttribute()
    line = NumberAttribute(null=True)
    named_only = BooleanAttribute(null=True)  # an invalid row named the payment: not missing, not first


class SettlementLineChunk(dynamodb.TableModel):
    """The lines of one processed chunk of a settlement file in one item (one write per chunk rather
    than per line), keyed by the chunk's first line number, so a chunk done again after a crash
    writes the same item. `rows` holds each line as `[line, payment_id, outcome, amount, fee, net,
    currency, status, settled_at]` (`LINE_FIELDS`); read them as `SettlementLine`s."""

    Meta = dynamodb.meta("settlement_lines")

    settlement_id = UnicodeAttribute(hash_key=True)
    line = NumberAttribute(range_key=True)  # the chunk's first line
    merchant_id = UnicodeAttribute()
    rows = JSONAttribute(default=list)
    # Settlements processed before chunk items stored one item per line, with these attributes instead
    # of `rows`: still read (`SettlementLine.iter`), never written.
    payment_id = UnicodeAttribute(null=True)
    outcome = UnicodeAttribute(null=True)
    amount = NumberAttribute(null=True)
    fee = NumberAttribute(null=True)
    net = NumberAttribute(null=True)
    currency = UnicodeAttribute(null=True)
    status = UnicodeAttribute(null=True)
    settled_at = UnicodeAttribute(null=True)

    def unpacked(self) -> list[list]:
        """The chunk's rows; a line item of the earlier shape as the one row it is."""
        if self.rows:
            return self.rows
        return [[getattr(self, name) for name in LINE_FIELDS]] if self.outcome else []


LINE_FIELDS = ("line", "payment_id", "outcome", "amount", "fee", "net", "currency", "status", "settled_at")


@dataclass(frozen=True)
class SettlementLine:
    """One line of a settlement file as processed (stored in a `SettlementLineChunk`)."""

    settlement_id: str
    line: int
    merchant_id: str
    payment_id: str | None
    outcome: str  # an Outcome: matched or a discrepancy Kind
    amount: int | None = None
    fee: int | None = None
    net: int | None = None
    currency: str | None = None
    status: str | None = None  # a LineStatus
    settled_at: str | None = None

    def packed(self) -> list:
        return [getattr(self, name) for name in LINE_FIELDS]

    @classmethod
    def iter(cls, settlement_id: str, *, currency: str | None = None) -> Iterator[SettlementLine]:
        """The settlement's lines in file order (optionally of one currency), a chunk item at a time."""
        for chunk in SettlementLineChunk.query(settlement_id):
            for row in chunk.unpacked():
                line = cls(
                    chunk.settlement_id, merchant_id=chunk.merchant_id, **dict(zip(LINE_FIELDS, row, strict=True))
                )
                if currency is None or line.currency == currency:
                    yield line

    @classmethod
    def count(cls, settlement_id: str) -> int:
        """How many lines of the settlement are stored."""
        return sum(len(chunk.unpacked()) for chunk in SettlementLineChunk.query(settlement_id))


class DiscrepanciesByKind(GlobalSecondaryIndex["Discrepancy"]):
    """The `kind` filter: `<settlement_id>#<kind>`, in line order."""

    Meta = dynamodb.index_meta("by-kind")

    settlement_kind = UnicodeAttribute(hash_key=True)
    discrepancy_id = UnicodeAttribute(range_key=True)


class Discrepancy(dynamodb.TableModel):
    Meta = dynamodb.meta("discrepancies")

    settlement_id = UnicodeAttribute(hash_key=True)
    discrepancy_id = UnicodeAttribute(range_key=True)  # dis_ + ULID that sorts in line order
    merchant_id = UnicodeAttribute()
    settlement_kind = UnicodeAttribute()
    kind = UnicodeAttribute()  # a Kind
    line = NumberAttribute(null=True)
    payment_id = UnicodeAttribute(null=True)
    expected = JSONAttribute(null=True)
    actual = JSONAttribute(null=True)
    detail = UnicodeAttribute()
    resolved = BooleanAttribute(default=False)
    resolved_by = UnicodeAttribute(null=True)
    resolved_reason = UnicodeAttribute(null=True)
    resolved_at = UTCDateTimeAttribute(null=True)

    by_kind = DiscrepanciesByKind()


class PayoutsByMerchant(GlobalSecondaryIndex["Payout"]):
    Meta = dynamodb.index_meta("by-merchant")

    merchant_id = UnicodeAttribute(hash_key=True)
    payout_id = UnicodeAttribute(range_key=True)


class Payout(dynamodb.TableModel):
    """The processor's payout: one per currency of a completed settlement file, written in the
    transaction that completes it, with the settlement's totals of that currency."""

    Meta = dynamodb.meta("payouts")

    payout_id = UnicodeAttribute(hash_key=True)  # po_ + ULID of the settlement's time: deterministic
    merchant_id = UnicodeAttribute()
    settlement_id = UnicodeAttribute()
    currency = UnicodeAttribute()
    gross = NumberAttribute()
    fees = NumberAttribute()
    net = NumberAttribute()
    payment_count = NumberAttribute()
    arrival_date = UnicodeAttribute()  # YYYY-MM-DD
    created = UTCDateTimeAttribute()

    by_merchant = PayoutsByMerchant()
