"""Importing historical payments from another processor: a CSV file, checked whole first
(`payments.imports.import_parse`: every bad row named by its line, no card numbers; one bad row and
nothing is written), then written in bulk.

The payments are written in chunks of rows sorted by `created`: the payments and their ledger
entries in transactions of up to 100 items, each payment with all its entries (several at once), then
one transaction that adds
the chunk's summary counters and its balance (summed in memory, one `ADD` per summary item and one
per currency on the pending balance: `payments.balance`) and moves the file's
progress record (`PaymentImport`, keyed by the file's SHA-256) past the chunk, on the condition that
it still stood before it. So a run that stops resumes at the first chunk not done, rewriting the same
items (ids are derived from the file: `pay_` + a ULID whose time is `created` and whose random part is
a hash of the merchant and the other processor's id), and counters are added exactly once. The same
file again is the same import. A row whose payment an earlier import (another file) brought already is
skipped and counted as such. One audit event records the finished file (SHA-256, counts, who).

Imported payments are ordinary payments for lists, summaries, exports and counts; they send no
webhooks, and Paysite neither captures nor refunds them (409 `payment_imported`)."""

from __future__ import annotations

import hashlib
import random
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from django.conf import settings
from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError
from pynamodb.transactions import TransactWrite
from ulid import ULID

from audit.services import audit_condition, audit_event_new
from core import dynamodb, retry
from core.actor import Actor
from core.errors import StorageUnavailable
from core.ids import now as clock_now
from customers.selectors import customer_list_for_merchant
from customers.services import customer_create
from payments.balance import BalanceChanges
from payments.enums import PaymentStatus, TransactionKind, TransactionStatus
from payments.imports import ImportRow, import_parse
from payments.models import DailySummary, Payment, PaymentImport, Transaction
from payments.services.summaries import summary_key_of
from search import index as search_index

CHUNK_ROWS = 500
SUMMARY_ITEMS = 99  # a chunk's summary and balance updates and its progress update make one transaction (at most 100)
WRITE_LIMIT = 100  # items per TransactWriteItems (DynamoDB's limit); a payment and its entries never split
BATCH_ROUNDS = 8
IMPORTED_FAILURE = "imported_failure"  # a failed payment's code: the decline reason stayed at the other processor


class ImportStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"


@dataclass
class ImportResult:
    record: PaymentImport
    created: bool  # False: this file was imported (or started) before
    resumed: bool = False  # a run that stopped was continued
    already: bool = False  # the file was imported completely before: nothing was done
    written_now: int = 0

    @property
    def completed(self) -> bool:
        return self.record.status == ImportStatus.COMPLETED


@dataclass
class _Chunk:
    rows: list[ImportRow] = field(default_factory=list)
    keys: set[str] = field(default_factory=set)


# --- writing ------------------------------------------------------------------------------------


def _derived_id(prefix: str, at: datetime, *parts: str) -> str:
    """`prefix_` + a ULID whose time is `at` and whose random part is a hash of `parts`: the same row
    of the same merchant always makes the same id, and ids still sort by time."""
    milliseconds = int(at.timestamp() * 1000)
    digest = hashlib.sha256("\n".join(parts).encode()).digest()
    return f"{prefix}_{ULID.from_bytes(milliseconds.to_bytes(6, 'big') + digest[:10])}"


def import_payment_id(*, merchant_id: str, row: ImportRow) -> str:
    return _derived_id("pay", row.created, merchant_id, row.external_id)


def _raw_items(
    merchant_id: str, row: ImportRow, sha256: str, customers: dict[str, str]
) -> tuple[str, list[dict[str, Any]]]:
    """The payment id, and the payment and its ledger entries as stored items (DynamoDB JSON, dates
    and metadata serialised by the model's own attributes): building pynamodb models for tens of
    thousands of rows would take most of an import's time."""
    payment_id = import_payment_id(merchant_id=merchant_id, row=row)
    created = Payment.created.serialize(row.created)
    customer_id = customers.get(row.email.lower()) if row.email else None
    payment: dict[str, Any] = {
        "payment_id": {"S": payment_id},
        "merchant_id": {"S": merchant_id},
        "merchant_status": {"S": f"{merchant_id}#{row.status}"},
        "status": {"S": str(row.status)},
        "amount": {"N": str(row.amount)},
        "currency": {"S": row.currency},
        "amount_captured": {"N": str(row.captured)},
        "amount_refunded": {"N": str(row.refunded)},
        "metadata": {"S": Payment.metadata.serialize(row.metadata)},
        "card": {
            "M": {
                "brand": {"S": row.brand},
                "last4": {"S": row.last4},
                "exp_month": {"N": str(row.exp_month)},
                "exp_year": {"N": str(row.exp_year)},
                "fingerprint": {"S": ""},  # a keyed hash of the number, which only the other processor has
            }
        },
        "external_id": {"S": row.external_id},
        "import_sha256": {"S": sha256},
        "created": {"S": created},
        "updated": {"S": created},
        "version": {"N": "1"},
    }
    if customer_id is not None:
        payment["customer_id"] = {"S": customer_id}
    if row.description is not None:
        payment["description"] = {"S": row.description}
    if row.status == PaymentStatus.FAILED:
        payment["failure_code"] = {"S": IMPORTED_FAILURE}
    if row.captured - row.refunded:  # its share of the pending balance, as a capture and refund leave it
        payment["balance_pending"] = {"N": str(row.captured - row.refunded)}

    def entry(kind: TransactionKind, amount: int, **fields: str) -> dict[str, Any]:
        return {
            "payment_id": {"S": payment_id},
            "txn_id": {"S": _derived_id("txn", row.created, payment_id, kind)},
            "merchant_id": {"S": merchant_id},
            "kind": {"S": str(kind)},
            "amount": {"N": str(amount)},
            "currency": {"S": row.currency},
            "created": {"S": created},
            **{name: {"S": str(value)} for name, value in fields.items()},
        }

    failed = row.status == PaymentStatus.FAILED
    ledger = [
        entry(
            TransactionKind.AUTHORIZATION,
            row.amount,
            status=TransactionStatus.FAILED if failed else TransactionStatus.SUCCEEDED,
        )
    ]
    if row.captured:
        ledger.append(entry(TransactionKind.CAPTURE, row.captured, status=TransactionStatus.SUCCEEDED))
    if row.status == PaymentStatus.CANCELED:
        ledger.append(entry(TransactionKind.CANCEL, row.amount, status=TransactionStatus.SUCCEEDED))
    if row.refunded:
        refund_id = _derived_id("re", row.created, payment_id, "refund")
        ledger.append(
            entry(TransactionKind.REFUND, row.refunded, status=TransactionStatus.SUCCEEDED, refund_id=refund_id)
        )
    return payment_id, [payment, *ledger]


def _summary_adds(merchant_id: str, payment_id: str, row: ImportRow, adds: dict[str, dict[str, int]]) -> None:
    key = summary_key_of(merchant_id=merchant_id, payment_id=payment_id, currency=row.currency, day=row.created)
    adds[key][f"count_{row.status}"] += 1
    adds[key][f"amount_{row.status}"] += row.amount
    if row.captured:
        adds[key]["captured"] += row.captured
    if row.refunded:
        adds[key]["refunded"] += row.refunded
        adds[key]["refund_count"] += 1


def _chunks(merchant_id: str, rows: list[ImportRow]) -> list[_Chunk]:
    """The rows by creation time, cut every `CHUNK_ROWS` rows, or sooner when the chunk's summary
    items would not fit one transaction beside the progress record. The same file makes the same
    chunks, which is what resuming counts on."""
    chunks: list[_Chunk] = []
    current = _Chunk()
    for row in sorted(rows, key=lambda r: (r.created, r.line)):
        payment_id = import_payment_id(merchant_id=merchant_id, row=row)
        key = summary_key_of(merchant_id=merchant_id, payment_id=payment_id, currency=row.currency, day=row.created)
        new_keys = {key, f"balance#{row.currency}"} - current.keys
        if current.rows and (len(current.rows) >= CHUNK_ROWS or len(current.keys) + len(new_keys) > SUMMARY_ITEMS):
            chunks.append(current)
            current = _Chunk()
        current.rows.append(row)
        current.keys.update((key, f"balance#{row.currency}"))
    if current.rows:
        chunks.append(current)
    return chunks


def _client() -> Any:
    return dynamodb.connection().client


def _backoff(attempt: int) -> None:
    time.sleep(min(2.0, 0.05 * 2**attempt) * (0.5 + random.random() / 2))  # noqa: S311 (jitter)


def _existing(payment_ids: list[str]) -> dict[str, str | None]:
    """payment id -> the SHA-256 of the import that wrote it (None: not imported), for those that exist."""
    found: dict[str, str | None] = {}
    table = Payment.Meta.table_name
    for start in range(0, len(payment_ids), 100):
        request: dict[str, Any] = {
            table: {
                "Keys": [{"payment_id": {"S": pid}} for pid in payment_ids[start : start + 100]],
                "ProjectionExpression": "payment_id, import_sha256",
                "ConsistentRead": True,
            }
        }
        for attempt in range(BATCH_ROUNDS):
            response = _client().batch_get_item(RequestItems=request)
            for item in response.get("Responses", {}).get(table, []):
                found[item["payment_id"]["S"]] = item.get("import_sha256", {}).get("S")
            request = response.get("UnprocessedKeys") or {}
            if not request:
                break
            _backoff(attempt)
        else:
            raise StorageUnavailable("DynamoDB kept keys of a batch read unprocessed; run the import again to resume.")
    return found


def _transact_put(groups: list[list[tuple[str, dict[str, Any]]]]) -> None:
    """Put each group of (table name, stored item) pairs (a payment and its ledger entries) whole:
    whole groups in transactions of up to `WRITE_LIMIT` items, `IMPORT_WRITE_THREADS` at once, each retried
    under `core.retry`'s policy. A payment is never stored without its ledger, even by a run that
    stops. Why transactions rather than BatchWriteItem (half the write units): docs/DECISIONS.md."""
    calls: list[list[tuple[str, dict[str, Any]]]] = [[]]
    for group in groups:
        if len(calls[-1]) + len(group) > WRITE_LIMIT:
            calls.append([])
        calls[-1].extend(group)

    def put(call: list[tuple[str, dict[str, Any]]]) -> None:
        puts = [{"TableName": table, "Item": item} for table, item in call]
        connection = dynamodb.connection()
        retry.transaction_retrying(lambda: connection.transact_write_items([], [], puts, []))

    with ThreadPoolExecutor(max_workers=max(1, int(settings.IMPORT_WRITE_THREADS))) as pool:
        list(pool.map(put, [call for call in calls if call]))


def _customers(merchant_id: str, rows: list[ImportRow], actor: Actor) -> dict[str, str]:
    """Lowercased email -> customer id: the merchant's customer with that email, created when missing."""
    out: dict[str, str] = {}
    for email in sorted({row.email.lower() for row in rows if row.email}):
        page = customer_list_for_merchant(merchant_id=merchant_id, email=email, limit=1)
        if page.items:
            out[email] = page.items[0].customer_id
        else:
            out[email] = customer_create(merchant_id=merchant_id, actor=actor, email=email).customer_id
    return out


def import_get(*, merchant_id: str, sha256: str) -> PaymentImport | None:
    try:
        return PaymentImport.get(merchant_id, sha256, consistent_read=True)
    except DoesNotExist:
        return None


def payment_import(
    *,
    merchant_id: str,
    actor: Actor,
    data: bytes,
    filename: str,
    on_progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Import a CSV file of historical payments for `merchant_id` (see the module). Raises
    `ImportInvalid` (nothing written) when any row is bad. `on_progress(rows_done, rows_total)` is
    called as chunks complete."""
    sha256 = hashlib.sha256(data).hexdigest()
    record = import_get(merchant_id=merchant_id, sha256=sha256)
    if record is not None and record.status == ImportStatus.COMPLETED:
        return ImportResult(record=record, created=False, already=True)
    rows = import_parse(data)
    chunks = _chunks(merchant_id, rows)
    created = record is None
    if record is None:
        record = PaymentImport(
            merchant_id=merchant_id,
            sha256=sha256,
            filename=filename[:255] or "import.csv",
            status=ImportStatus.RUNNING,
            rows_total=len(rows),
            chunks_total=len(chunks),
            chunks_done=0,
            imported=0,
            skipped=0,
            actor=f"{actor.type}:{actor.id}",
            created=clock_now(),
        )
        try:
            record.save(condition=PaymentImport.sha256.does_not_exist())
        except PutError:  # another run of the same file started just now: continue it
            record = import_get(merchant_id=merchant_id, sha256=sha256)
            assert record is not None
            created = False
    customers = _customers(merchant_id, rows, actor)
    result = ImportResult(record=record, created=created, resumed=not created and int(record.chunks_done) > 0)
    done_rows = sum(len(chunk.rows) for chunk in chunks[: int(record.chunks_done)])
    if on_progress is not None:
        on_progress(done_rows, len(rows))
    for number in range(int(record.chunks_done), len(chunks)):
        written = _chunk_write(merchant_id, sha256, number, chunks[number], customers)
        result.written_now += written
        done_rows += len(chunks[number].rows)
        if on_progress is not None:
            on_progress(done_rows, len(rows))
    result.record = _finish(merchant_id, sha256, actor)
    return result


def _chunk_write(merchant_id: str, sha256: str, number: int, chunk: _Chunk, customers: dict[str, str]) -> int:
    """Write chunk `number`: its payments and ledger, then its counters with the progress record in one
    transaction conditioned on the record still standing at `number`. Returns the payments written."""
    built = [(row, *_raw_items(merchant_id, row, sha256, customers)) for row in chunk.rows]
    existing = _existing([payment_id for _, payment_id, _ in built])
    payments, ledger = Payment.Meta.table_name, Transaction.Meta.table_name
    groups: list[list[tuple[str, dict[str, Any]]]] = []
    adds: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    balance = BalanceChanges(merchant_id)
    skipped = 0
    for row, payment_id, stored in built:
        if payment_id in existing and existing[payment_id] != sha256:
            skipped += 1  # another import (or Paysite) has this payment: it is not written twice
            continue
        groups.append([(payments, stored[0]), *((ledger, entry) for entry in stored[1:])])
        _summary_adds(merchant_id, payment_id, row, adds)
        balance.add(currency=row.currency, key=f"{sha256}#{number}", pending=row.captured - row.refunded)
    _transact_put(groups)
    imported = len(chunk.rows) - skipped

    def commit() -> None:
        with TransactWrite(connection=dynamodb.connection()) as transaction:
            for key, values in adds.items():
                actions = [getattr(DailySummary, name).add(value) for name, value in values.items() if value]
                if actions:
                    transaction.update(DailySummary(merchant_id=merchant_id, day_currency_shard=key), actions=actions)
            for item, actions in balance.updates():
                transaction.update(item, actions=actions)
            transaction.update(
                PaymentImport(merchant_id=merchant_id, sha256=sha256),
                actions=[
                    PaymentImport.chunks_done.set(number + 1),
                    PaymentImport.imported.add(imported),
                    PaymentImport.skipped.add(skipped),
                ],
                condition=(PaymentImport.chunks_done == number) & (PaymentImport.status == ImportStatus.RUNNING),
            )

    try:
        retry.transaction_retrying(commit)
    except TransactWriteError as error:
        if "ConditionalCheckFailed" not in retry.cancellation_codes(error):
            raise
        # Another run of the same file did this chunk: its counters are in, once.
    search_index.after_commit("payment", [group[0][1] for group in groups])
    return imported


def _finish(merchant_id: str, sha256: str, actor: Actor) -> PaymentImport:
    """Mark the import completed with its one audit event, in one transaction (once)."""
    record = import_get(merchant_id=merchant_id, sha256=sha256)
    assert record is not None
    if record.status == ImportStatus.COMPLETED:
        return record
    at = clock_now()
    counts = {
        "sha256": sha256,
        "filename": record.filename,
        "rows": int(record.rows_total),
        "imported": int(record.imported),
        "skipped": int(record.skipped),
    }
    audit = audit_event_new(
        merchant_id=merchant_id,
        actor=actor,
        action="payment.import",
        entity_type="payment_import",
        entity_id=sha256,
        after=counts,
        detail=f"{counts['imported']} payment(s) imported from {record.filename}, {counts['skipped']} already there",
        at=at,
    )

    def commit() -> None:
        with TransactWrite(connection=dynamodb.connection()) as transaction:
            transaction.update(
                PaymentImport(merchant_id=merchant_id, sha256=sha256),
                actions=[PaymentImport.status.set(ImportStatus.COMPLETED), PaymentImport.completed.set(at)],
                condition=(PaymentImport.status == ImportStatus.RUNNING)
                & (PaymentImport.chunks_done == record.chunks_total),
            )
            transaction.save(audit, condition=audit_condition())

    try:
        retry.transaction_retrying(commit)
    except TransactWriteError as error:
        if "ConditionalCheckFailed" not in retry.cancellation_codes(error):
            raise
    finished = import_get(merchant_id=merchant_id, sha256=sha256)
    assert finished is not None
    return finished
