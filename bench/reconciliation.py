"""Reconciliation benchmark: settlement files of 20,000 and 200,000 lines on DynamoDB Local.

Starts an in-memory DynamoDB Local (core/dynamodb_local.py), creates the tables and the payments
the files name, then processes each file through the same service the task worker runs and reports
lines per second, DynamoDB calls per 1,000 lines (by operation) and the peak RSS while processing.
Memory must not grow with the file: compare the two peaks.

    .venv/bin/python bench/reconciliation.py [--lines 20000 200000] [--mismatch-every 50]
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
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
    parser.add_argument("--lines", type=int, nargs="+", default=[20_000, 200_000])
    parser.add_argument("--mismatch-every", type=int, default=50, help="one amount mismatch every N lines")
    parser.add_argument("--threads", type=int, default=4, help="threads that write the payments (set-up only)")
    args = parser.parse_args()

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


args_mismatch_every = 50


def run(args: argparse.Namespace) -> None:
    global args_mismatch_every
    args_mismatch_every = args.mismatch_every

    from django.core.management import call_command

    from core import dynamodb, tables
    from core.actor import Actor
    from merchants.services.merchants import merchant_create
    from reconciliation.representations import settlement_object
    from reconciliation.services import settlement_create, settlement_process

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

    def after(model, **_):
        seconds[model.name] += time.monotonic() - started.pop(threading.get_ident(), time.monotonic())

    client.meta.events.register("before-call.dynamodb", before)
    client.meta.events.register("after-call.dynamodb", after)

    results = []
    for n, lines in enumerate(args.lines):
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
        total_calls = sum(calls.values())
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
    print(f"process peak RSS (ru_maxrss) {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    if len(results) > 1:
        small, large = results[0], results[-1]
        print(
            f"peak RSS {small[4]:.0f} MB at {small[0]:,} lines vs {large[4]:.0f} MB at {large[0]:,} lines "
            f"({large[4] - small[4]:+.0f} MB for {large[0] // small[0]}x the lines)"
        )


if __name__ == "__main__":
    main()
