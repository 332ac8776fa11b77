"""Reconciliation benchmark: a settlement file of 5,000 lines (and 200,000 with `--large`) on
DynamoDB Local.

Starts an in-memory DynamoDB Local (core/dynamodb_local.py), creates the tables and the payments
the files name, then processes each file through the same service the task worker runs and reports
lines per second, DynamoDB calls per 1,000 lines (by operation) and the peak RSS while processing.
Memory must not grow with the file: compare the peaks.

The floor: the items processing wrote for the file's first 1,000 lines are recorded (every item of
its TransactWriteItems and BatchWriteItem calls, the settlement's progress updates aside) and
written again raw, in the same run against the same engine, as BatchWriteItem (25 a call) and as
TransactWriteItems (100 a call) of unconditional puts of the same items, three times each (the
median is printed, beside the measured time per 1,000 lines).

A file of `--warm-up` lines (2,000) is processed first and not counted: DynamoDB Local is a Java
program, and its compiler spends most of a core on compiling during its first seconds of work. The
floor is written after the timed file, on a warm engine, so the timed file must be warm too.

    .venv/bin/python bench/reconciliation.py [--lines 5000] [--large] [--mismatch-every 50] [--warm-up 2000]
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WORK = Path(tempfile.mkdtemp(prefix="paysite-bench-"))
os.environ.update(
    PAYSITE_ENV_FILE="",
    DJANGO_DEBUG="1",
    DJANGO_SETTINGS_MODULE="paysite.settings",
    PAYSITE_VAR_DIR=str(WORK),
    DYNAMODB_TABLE_PREFIX="bench-",
    AWS_ACCESS_KEY_ID="bench",
    AWS_SECRET_ACCESS_KEY="bench",
    AWS_DEFAULT_REGION="us-east-1",
    LOG_LEVEL="WARNING",
)


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024 / 1024


class RssSampler:
    """The highest resident set size seen while a block runs (sampled every 50 ms)."""

    def __enter__(self):
        self.peak = rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, rss_mb())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mb())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, nargs="+", default=[5_000])
    parser.add_argument("--large", action="store_true", help="also a file of 200,000 lines (long)")
    parser.add_argument("--mismatch-every", type=int, default=50, help="one amount mismatch every N lines")
    parser.add_argument("--threads", type=int, default=4, help="threads that write the payments (set-up only)")
    parser.add_argument("--warm-up", type=int, default=2_000, help="lines of a first file, not counted (0: none)")
    args = parser.parse_args()
    if args.large:
        args.lines.append(200_000)

    from core import dynamodb_local

    engine = dynamodb_local.start(port=dynamodb_local.free_port(), db_path=None)
    os.environ["DYNAMODB_ENDPOINT"] = engine.endpoint
    try:
        import django

        django.setup()
        run(args)
    finally:
        engine.stop()


def seed_payments(merchant_id: str, count: int, start: datetime, threads: int, seed: int) -> Path:
    """Write `count` captured payments (25 a BatchWriteItem, in threads) and their settlement file,
    streaming both: nothing proportional to `count` stays in memory."""
    from core.ids import new_id
    from payments.models import CardAttribute, Payment
    from reconciliation.csvfile import REQUIRED_COLUMNS, major_units

    rng = random.Random(seed)
    path = WORK / f"settlement-{count}.csv"

    def write(batch: list[Payment]) -> None:
        with Payment.batch_write() as writer:
            for payment in batch:
                writer.save(payment)

    with open(path, "w", newline="") as out, ThreadPoolExecutor(threads) as pool:
        rows = csv.writer(out)
        rows.writerow(REQUIRED_COLUMNS)
        batch: list[Payment] = []
        futures = []
        for index in range(count):
            at = start + timedelta(milliseconds=index * 400 + rng.randrange(400))
            amount = rng.randrange(100, 200_000)
            payment = Payment(
                payment_id=new_id("pay", at),
                merchant_id=merchant_id,
                merchant_status=f"{merchant_id}#succeeded",
                status="succeeded",
                amount=amount,
                currency="usd",
                amount_captured=amount,
                amount_refunded=0,
                metadata={},
                card=CardAttribute(brand="visa", last4="4242", exp_month=12, exp_year=2034, fingerprint="fp_bench"),
                created=at,
                updated=at,
            )
            fee = amount * 29 // 1000 + 30
            line_amount = amount + 100 if index % args_mismatch_every == args_mismatch_every - 1 else amount
            rows.writerow(
                [
                    payment.payment_id,
                    major_units(line_amount, "usd"),
                    "USD",
                    major_units(fee, "usd"),
                    major_units(line_amount - fee, "usd"),
                    "settled",
                    f"{at:%Y-%m-%d}",
                ]
            )
            batch.append(payment)
            if len(batch) == 500:
                futures.append(pool.submit(write, batch))
                batch = []
                if len(futures) > threads * 2:
                    futures.pop(0).result()
        if batch:
            futures.append(pool.submit(write, batch))
        for future in futures:
            future.result()
    return path


class WriteRecorder:
    """The items of the TransactWriteItems and BatchWriteItem calls made while `on`: puts as they
    are, updates by key (their whole item is read afterwards, outside any timing)."""

    def __init__(self):
        self.on = False
        self.puts: list[tuple[str, dict]] = []
        self.updates: list[tuple[str, dict]] = []
        self.calls: Counter[str] = Counter()

    def transact(self, params, **_):
        if self.on:
            self.calls["TransactWriteItems"] += 1
            for action in params["TransactItems"]:
                if "Put" in action:
                    self.puts.append((action["Put"]["TableName"], action["Put"]["Item"]))
                elif "Update" in action:
                    self.updates.append((action["Update"]["TableName"], action["Update"]["Key"]))

    def batch(self, params, **_):
        if self.on:
            self.calls["BatchWriteItem"] += 1
            for table, requests in params["RequestItems"].items():
                self.puts += [(table, request["PutRequest"]["Item"]) for request in requests if "PutRequest" in request]

    def items(self, client) -> list[tuple[str, dict, dict]]:
        """(table, key, whole item) of every recorded write, in order; an updated item as it is now."""
        keys = {
            table: client.describe_table(TableName=table)["Table"]["KeySchema"]
            for table in {table for table, _ in self.puts + self.updates}
        }
        out = []
        for table, item in self.puts:
            out.append((table, {k["AttributeName"]: item[k["AttributeName"]] for k in keys[table]}, item))
        for table, key in self.updates:
            out.append((table, key, client.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]))
        return out


def _groups(items: list[tuple[str, dict, dict]], size: int) -> list[list[tuple[str, dict, dict]]]:
    """Calls of at most `size` items, none naming an item twice (neither call allows it)."""
    groups: list[list] = [[]]
    seen: set[str] = set()
    for table, key, item in items:
        name = table + repr(sorted(key.items()))
        if len(groups[-1]) == size or name in seen:
            groups.append([])
            seen = set()
        groups[-1].append((table, key, item))
        seen.add(name)
    return [group for group in groups if group]


def floor_writes(client, items: list[tuple[str, dict, dict]]) -> dict[str, tuple[int, float]]:
    """The same items written raw: (calls, seconds) as BatchWriteItem and as TransactWriteItems, each
    the median of `FLOOR_REPETITIONS` writes (one write of 1,000 lines' items is about 30 calls, and
    a shared machine moves single calls)."""
    out: dict[str, tuple[int, float]] = {}
    times: dict[str, list[float]] = {"BatchWriteItem": [], "TransactWriteItems": []}
    for _ in range(FLOOR_REPETITIONS):
        t0, calls = time.monotonic(), 0
        for group in _groups(items, 25):
            request: dict = {}
            for table, _, item in group:
                request.setdefault(table, []).append({"PutRequest": {"Item": item}})
            while request:
                calls += 1
                request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
        times["BatchWriteItem"].append(time.monotonic() - t0)
        out["BatchWriteItem"] = (calls, 0.0)
        t0, calls = time.monotonic(), 0
        for group in _groups(items, 100):
            calls += 1
            client.transact_write_items(TransactItems=[{"Put": {"TableName": t, "Item": item}} for t, _, item in group])
        times["TransactWriteItems"].append(time.monotonic() - t0)
        out["TransactWriteItems"] = (calls, 0.0)
    return {op: (calls, statistics.median(times[op])) for op, (calls, _) in out.items()}


def floor_print(client, recorder: WriteRecorder, covered: int, measured: float, measured_calls: float) -> None:
    """The recorded items of the first `covered` lines written raw, per 1,000 lines, beside the run."""
    items = recorder.items(client)
    floor = floor_writes(client, items)
    scale = 1000 / covered
    kinds = Counter(table.removeprefix("bench-") for table, _, _ in items)
    print(
        f"          floor: the {len(items) * scale:,.0f} items written per 1,000 lines "
        f"({', '.join(f'{t} {c * scale:,.0f}' for t, c in kinds.most_common())}; the run wrote them in "
        + ", ".join(f"{n * scale:.1f} {op}" for op, n in sorted(recorder.calls.items()))
        + f") written raw (median of {FLOOR_REPETITIONS}): "
        + ", ".join(f"{op} {n * scale:.1f} calls {seconds * scale:.2f} s" for op, (n, seconds) in floor.items())
        + f"; measured {measured_calls:.1f} calls {measured:.2f} s per 1,000 lines "
        f"({measured / (floor['TransactWriteItems'][1] * scale):.2f}x the TransactWriteItems floor, "
        f"{measured / (floor['BatchWriteItem'][1] * scale):.2f}x the BatchWriteItem floor)",
        flush=True,
    )


args_mismatch_every = 50
FLOOR_REPETITIONS = 3


def run(args: argparse.Namespace) -> None:
    global args_mismatch_every
    args_mismatch_every = args.mismatch_every

    from django.core.management import call_command

    from core import dynamodb, tables
    from core.actor import Actor
    from merchants.services.merchants import merchant_create
    from reconciliation.representations import settlement_object
    from reconciliation.services import processing, settlement_create, settlement_process

    call_command("migrate", verbosity=0)  # Django's own tables (the capacity counters live there)
    tables.tables_create()
    actor = Actor(type="system", id="bench")
    calls: Counter[str] = Counter()
    seconds: Counter[str] = Counter()
    started: dict[int, float] = {}
    client = dynamodb.connection().client

    def before(model, **_):
        calls.update([model.name])
        started[threading.get_ident()] = time.monotonic()

    def after(model, parsed=None, **_):
        seconds[model.name] += time.monotonic() - started.pop(threading.get_ident(), time.monotonic())
        if parsed and (parsed.get("UnprocessedKeys") or parsed.get("UnprocessedItems")):
            calls.update([f"{model.name} retried"])  # a call that left some of its keys or items unprocessed

    client.meta.events.register("before-call.dynamodb", before)
    client.meta.events.register("after-call.dynamodb", after)
    recorder = WriteRecorder()
    client.meta.events.register("provide-client-params.dynamodb.TransactWriteItems", recorder.transact)
    client.meta.events.register("provide-client-params.dynamodb.BatchWriteItem", recorder.batch)
    real_save = processing._progress_save
    covered = {"lines": 0}

    def progress_save(settlement, progress, **more):
        """Stops recording once the first 1,000 lines are written (their progress is saved last)."""
        real_save(settlement, progress, **more)
        if recorder.on and "rows_processed" in more and more["rows_processed"] >= 1000:
            recorder.on, covered["lines"] = False, more["rows_processed"]

    processing._progress_save = progress_save

    results = []
    files = ([args.warm_up] if args.warm_up else []) + args.lines
    for n, lines in enumerate(files):
        warm_up = bool(args.warm_up) and n == 0
        merchant = merchant_create(name=f"Bench {lines}", default_currency="usd", actor=actor)
        start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=12)
        t0 = time.monotonic()
        path = seed_payments(merchant.merchant_id, lines, start, args.threads, seed=n)
        seeded = time.monotonic() - t0
        with open(path, "rb") as file:
            intake = settlement_create(
                merchant_id=merchant.merchant_id, actor=actor, file=file, filename=path.name, enqueue=False
            )
        calls.clear()
        seconds.clear()
        recorder.__init__()
        recorder.on = True
        with RssSampler() as rss:
            t0 = time.monotonic()
            settlement = settlement_process(
                merchant_id=merchant.merchant_id, settlement_id=intake.settlement.settlement_id
            )
            elapsed = time.monotonic() - t0
        data = settlement_object(settlement)
        assert data["status"] == "completed" and data["rows_processed"] == lines, data
        expected_mismatch = lines // args.mismatch_every
        assert data["counts"]["amount_mismatch"] == expected_mismatch, data["counts"]
        assert data["counts"]["matched"] == lines - expected_mismatch, data["counts"]
        total_calls = sum(count for name, count in calls.items() if not name.endswith(" retried"))
        if warm_up:
            print(
                f"warm-up: {lines:,} lines in {elapsed:.1f} s ({lines / elapsed:,.0f} lines/s), not counted", flush=True
            )
            path.unlink()
            continue
        results.append((lines, elapsed, total_calls, dict(calls), rss.peak, seeded))
        per_k = {name: round(count * 1000 / lines, 1) for name, count in sorted(calls.items())}
        print(
            f"{lines:>8,} lines: {lines / elapsed:,.0f} lines/s ({elapsed:.1f} s), "
            f"{total_calls * 1000 / lines:.1f} DynamoDB calls per 1,000 lines {per_k}, "
            f"peak RSS while processing {rss.peak:.0f} MB (set-up {seeded:.0f} s)",
            flush=True,
        )
        waited = sum(seconds.values())
        print(
            f"          time in DynamoDB calls {waited:.1f} s of {elapsed:.1f} s: "
            + ", ".join(f"{name} {value:.1f} s" for name, value in seconds.most_common()),
            flush=True,
        )
        path.unlink()
        floor_print(client, recorder, covered["lines"], elapsed * 1000 / lines, total_calls * 1000 / lines)
    print(f"process peak RSS (ru_maxrss) {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    if len(results) > 1:
        small, large = results[0], results[-1]
        print(
            f"peak RSS {small[4]:.0f} MB at {small[0]:,} lines vs {large[4]:.0f} MB at {large[0]:,} lines "
            f"({large[4] - small[4]:+.0f} MB for {large[0] // small[0]}x the lines)"
        )


if __name__ == "__main__":
    main()
