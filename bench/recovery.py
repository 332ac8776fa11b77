"""Processor-timeout benchmark: payments left `processing`, then `payments recover`, on DynamoDB Local.

Starts an in-memory DynamoDB Local, creates `--payments` payments with the sandbox's timeout cards
through the payment service (one in `--unreceived-every` never reaches the processor), so each is
stored as `processing`, then resolves them all with the recovery that `manage.py payments recover`
runs. Reports timeouts stored per second, payments resolved per second and DynamoDB calls per
resolution, and checks the outcome: every payment resolved, the approved ones captured once, the
never-received ones failed with nothing captured, one sandbox authorization per approved payment,
and the day's summary equal to the payments. Exit status 1 when a check fails. Not a test: it
asserts no timing.

    .venv/bin/python bench/recovery.py [--payments 1000] [--unreceived-every 10]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
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
    SANDBOX_TIMEOUT_SECONDS="0",
    TASKS_BACKEND="django_tasks.backends.dummy.DummyBackend",  # no worker: recovery is what is measured
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--payments", type=int, default=1000)
    parser.add_argument("--unreceived-every", type=int, default=10, help="one payment in N never reaches the processor")
    parser.add_argument("--json", type=Path, default=ROOT / "var" / "bench" / "recovery.json")
    args = parser.parse_args()

    from core import dynamodb_local

    engine = dynamodb_local.start(port=dynamodb_local.free_port(), db_path=None)
    os.environ["DYNAMODB_ENDPOINT"] = engine.endpoint
    try:
        import django

        django.setup()
        result = run(args)
    finally:
        engine.stop()
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))
    print(
        f"\nRecovery: {result['payments']} processing payments stored at {result['timeouts_per_second']}/s; "
        f"resolved {result['resolved']} in {result['recover_seconds']} s ({result['resolved_per_second']}/s, "
        f"{result['calls_per_resolution']} DynamoDB calls each: {result['calls_by_operation']})"
    )
    print("checks: " + ", ".join(f"{name} {'ok' if ok else 'FAILED'}" for name, ok in result["checks"].items()))
    return 0 if all(result["checks"].values()) else 1


def run(args: argparse.Namespace) -> dict:
    from django.core.management import call_command
    from django.utils import timezone

    from core import dynamodb, tables
    from core.actor import Actor
    from core.cards import CardInput
    from merchants.services.merchants import merchant_create
    from payments import processor, selectors
    from payments.services import payment_create, payment_recover_all
    from sandbox.models import SandboxAuthorization

    call_command("migrate", verbosity=0)
    tables.tables_create()
    actor = Actor(type="system", id="bench")
    merchant = merchant_create(name="Bench recovery", default_currency="usd", actor=actor)

    started = time.monotonic()
    unreceived = timed_out = 0
    for n in range(args.payments):
        lost = n % args.unreceived_every == 0
        unreceived += lost
        number = processor.TIMEOUT_UNRECEIVED_CARD if lost else processor.TIMEOUT_CARD
        try:
            payment_create(
                merchant_id=merchant.merchant_id,
                actor=actor,
                amount=1000 + n,
                currency="usd",
                card=CardInput(number=number, exp_month=12, exp_year=2034, cvc="123"),
            )
        except processor.ProcessorTimeout:
            timed_out += 1
    stored_seconds = time.monotonic() - started

    calls: Counter[str] = Counter()
    client = dynamodb.connection().client
    client.meta.events.register("before-call.dynamodb", lambda model, **_: calls.update([model.name]))
    started = time.monotonic()
    report = payment_recover_all(merchant_ids=[merchant.merchant_id])
    recover_seconds = time.monotonic() - started

    payments = list(selectors.payment_iter_for_merchant(merchant_id=merchant.merchant_id))
    statuses = Counter(payment.status for payment in payments)
    today = timezone.now().date()
    usd = selectors.payment_summary(merchant_id=merchant.merchant_id, start=today, end=today).currencies["usd"]
    captured = sum(int(payment.amount_captured) for payment in payments)
    checks = {
        "every_create_timed_out": timed_out == args.payments,
        "all_resolved": report.resolved_total == args.payments and not report.still_processing,
        "outcomes": statuses == Counter({"succeeded": args.payments - unreceived, "failed": unreceived}),
        "charged_once": SandboxAuthorization.objects.count() == args.payments - unreceived,
        "nothing_captured_when_never_received": all(
            int(p.amount_captured) == 0 for p in payments if p.failure_code == "processor_timeout"
        ),
        "summary_equals_payments": usd.captured == captured
        and usd.count_by_status["processing"] == 0
        and usd.count == args.payments,
    }
    resolved = report.resolved_total
    return {
        "payments": args.payments,
        "never_received": unreceived,
        "timeouts_per_second": round(args.payments / stored_seconds, 1),
        "resolved": resolved,
        "recover_seconds": round(recover_seconds, 1),
        "resolved_per_second": round(resolved / recover_seconds, 1) if recover_seconds else None,
        "calls_per_resolution": round(sum(calls.values()) / max(resolved, 1), 1),
        "calls_by_operation": {name: round(count / max(resolved, 1), 2) for name, count in sorted(calls.items())},
        "statuses": dict(statuses),
        "checks": checks,
        "cpu_count": os.cpu_count(),
    }


if __name__ == "__main__":
    sys.exit(main())
