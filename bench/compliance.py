"""Compliance report benchmark: the stored, background-run report on the demo data, on DynamoDB Local.

Starts an in-memory DynamoDB Local, loads the demo data (`seed_demo`, `--payments` payments), seals
the audit trail, then measures:

- a first run (the whole seal chain verified: no point verified before) and a second run (only what
  was sealed since the first, from its anchored head), each with its slowest checks;
- the page an ops user opens (`GET /compliance/`, the stored report): the median and p95 of 20 loads,
  server time through Django's test client;
- the floor: the same page's template rendered from the stored report, without the request around it.

Not a test: it asserts no timing. Writes var/bench/compliance.json.

    .venv/bin/python bench/compliance.py [--payments 20000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
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
    DYNAMODB_READ_TIMEOUT="60",  # the bulk load's batches on a busy machine
    TASKS_BACKEND="django_tasks.backends.dummy.DummyBackend",  # runs are executed here, in the open
)
PAGE_LOADS = 20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--payments", type=int, default=int(os.environ.get("BENCH_COMPLIANCE_PAYMENTS") or 20000))
    parser.add_argument("--json", type=Path, default=ROOT / "var" / "bench" / "compliance.json")
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
    first, second, page = result["first_run"], result["second_run"], result["page"]
    print(
        f"\nCompliance report on {result['payments']:,} demo payments ({result['items']:,} stored items):\n"
        f"  run, first (whole chain verified)   {first['seconds']:6.2f} s   slowest: {first['slowest']}\n"
        f"  run, next (chain since last run)    {second['seconds']:6.2f} s   slowest: {second['slowest']}\n"
        f"  PAN scan sample                     {result['scan_sample']}\n"
        f"  page GET /compliance/ (stored)      median {page['median_ms']:.1f} ms, p95 {page['p95_ms']:.1f} ms "
        f"(floor: the template alone {page['floor_ms']:.1f} ms; goal 2,000 ms)"
    )
    return 0


def _timed_run(trigger: str) -> dict:
    from compliance.models import ComplianceRun
    from compliance.services import compliance_run_execute, compliance_run_request

    run, _ = compliance_run_request(requested_by="bench", trigger=trigger)
    started = time.monotonic()
    compliance_run_execute(run_id=run.pk)
    seconds = time.monotonic() - started
    stored = ComplianceRun.objects.get(pk=run.pk)
    checks = sorted(stored.report["checks"], key=lambda c: -c.get("seconds", 0))
    return {
        "seconds": round(seconds, 2),
        "status": stored.status,
        "summary": stored.report["summary"],
        "slowest": ", ".join(f"{c['id']} {c.get('seconds', 0):.2f} s" for c in checks[:3]),
        "checks": {c["id"]: c.get("seconds") for c in stored.report["checks"]},
    }


def run(args: argparse.Namespace) -> dict:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.template.loader import render_to_string
    from django.test import Client

    from compliance.selectors import compliance_run_latest
    from compliance.views import report_context
    from core import dynamodb, tables

    call_command("migrate", verbosity=0)
    tables.tables_create()
    started = time.monotonic()
    call_command("seed_demo", payments=args.payments, quiet=True)
    seeded = time.monotonic() - started
    call_command("audit", "seal", "--through", "now", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    client = dynamodb.connection().client
    items = sum(
        int(client.describe_table(TableName=model.Meta.table_name)["Table"].get("ItemCount", 0))
        for model in dynamodb.models()
    )

    first = _timed_run("command")
    print(f"first run: {first['seconds']} s ({first['slowest']})", flush=True)
    second = _timed_run("command")
    print(f"next run: {second['seconds']} s ({second['slowest']})", flush=True)

    user = get_user_model().objects.create_user("bench-ops", password=None, is_staff=True)
    browser = Client(HTTP_HOST="localhost")
    browser.force_login(user)
    times = []
    for _ in range(PAGE_LOADS):
        started = time.monotonic()
        response = browser.get("/compliance/")
        times.append((time.monotonic() - started) * 1000)
        assert response.status_code == 200, response.status_code
    latest = compliance_run_latest()
    floor = []
    for _ in range(PAGE_LOADS):
        started = time.monotonic()
        render_to_string("compliance/report_table.html", report_context(latest))
        floor.append((time.monotonic() - started) * 1000)
    scan = next(c for c in latest.report["checks"] if c["id"] == "stored-pan")
    return {
        "payments": args.payments,
        "seed_seconds": round(seeded, 1),
        "items": items,
        "first_run": first,
        "second_run": second,
        "scan_sample": scan["evidence"][0],
        "page": {
            "median_ms": round(statistics.median(times), 1),
            "p95_ms": round(sorted(times)[int(0.95 * (len(times) - 1))], 1),
            "floor_ms": round(statistics.median(floor), 1),
        },
        "cpu_count": os.cpu_count(),
        "load_average": os.getloadavg()[0],
    }


if __name__ == "__main__":
    sys.exit(main())
