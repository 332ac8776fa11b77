#!/usr/bin/env python
"""`make bench`: the dashboard's pages on the demo data, as each role sees them (issue 15 point 4).

Starts its own in-memory DynamoDB Local, loads the demo data (`seed_demo`), adds what the demo data
does not have (a processed settlement file with its discrepancies and payouts, and a dispute), starts
gunicorn (as `bench/run.py` serves) on a free 127.0.0.1 port, signs in as each role (ops staff,
and at Acme an admin, an operator and a viewer) and loads every page the role can open `--loads`
times (default 20), one request at a time. A page is the fixed list below plus every link of the
role's navigation bar; a detail page (a payment, a settlement...) is the first one its list links to.

Server time is the time to the last byte of the answer, measured by this client over loopback (the
request and the whole body read). The first two loads of each page (one per gunicorn worker, which
import some modules at their first request) are not counted. Prints p50 and p95 per page and role and
flags every p95 over 300 ms; writes var/bench/pages.json. Not counted (issue 15): the sign-in POST,
exports, uploads, the audit verify run and the Django admin. Not a test: nothing here asserts a timing.

    .venv/bin/python bench/pages.py [--payments 20000] [--loads 20]
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import django  # noqa: E402
import requests  # noqa: E402

from bench.run import environment, percentile, serving_described, start_gunicorn  # noqa: E402
from core import dynamodb_local  # noqa: E402

GOAL_MS = 300.0
WARMUP = 2
PASSWORD = "paysite-demo-2026"  # seed_demo's published demo password
ROLES = {"ops": "ops", "admin": "acme-admin", "operator": "acme-operator", "viewer": "acme-viewer"}
PAGES = [
    "/",
    "/payments/",
    "/payments/?status=succeeded",
    "/payments/?status=refunded&currency=usd",
    "/payments/?date_from={week_ago}&date_to={today}&amount_min=10",
    "/payments/?q=4242",
    "/payments/refund-requests/",
    "/payments/import/",
    "/customers/",
    "/settlements/",
    "/disputes/",
    "/balance/",
    "/balance/payouts/",
    "/audit/",
    "/compliance/",
    "/costs/",
    "/developers/",
    "/developers/deliveries/",
    "/developers/logs/",
    "/settings/",
    "/settings/team/",
    "/ops/merchants/",
]
# The first link to a detail page on a list page: (list page, pattern of the link).
DETAILS = [
    ("/payments/", r"/payments/pay_[0-9A-Za-z]+/"),
    ("/customers/", r"/customers/cus_[0-9A-Za-z]+/"),
    ("/settlements/", r"/settlements/set_[0-9A-Za-z]+/"),
    ("/disputes/", r"/disputes/dp_[0-9A-Za-z]+/"),
    ("/balance/payouts/", r"/balance/payouts/po_[0-9A-Za-z]+/"),
    ("/audit/", r"/audit/[a-z]+_[0-9A-Za-z]+/"),
    ("/developers/logs/", r"/developers/logs/[a-z]+_[0-9A-Za-z]+/"),
]
# Not pages to time: the issue leaves these out, or they change something.
SKIP = re.compile(
    r"^/(admin|api|static|accounts)/|export|\.csv|\.json|\.html$|/verify/|/upload/|/run/|/mfa/|"
    r"/merchant/(switch|choose)/|/resolve/|/revoke/|/delete/|/disable/|/rotate/|/test/|/resend/"
)


def say(message: str) -> None:
    print(f"[pages {time.strftime('%H:%M:%S')}] {message}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--payments", type=int, default=int(os.environ.get("BENCH_PAGES_PAYMENTS") or 20000))
    parser.add_argument("--loads", type=int, default=20)
    parser.add_argument("--json", type=Path, default=ROOT / "var" / "bench" / "pages.json")
    args = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix="paysite-bench-pages-"))
    engine = dynamodb_local.start(port=dynamodb_local.free_port(), db_path=None)
    gunicorn = None
    try:
        env = {
            **environment(engine.endpoint, var_dir),
            "REQUIRE_STAFF_MFA": "0",  # the demo ops user has no authenticator
            "DYNAMODB_READ_TIMEOUT": "60",  # the bulk load's batches on a busy machine
        }
        os.environ.update(env)
        load_before = os.getloadavg()
        started = time.monotonic()
        for command in (["migrate", "--noinput"], ["dynamodb", "create"]):
            manage(env, *command)
        say(f"loading the demo data ({args.payments:,} payments)")
        manage(env, "seed_demo", "--payments", str(args.payments), "--quiet", "--force")
        django.setup()
        extras()
        say(f"demo data ready in {time.monotonic() - started:.0f} s")
        port = dynamodb_local.free_port()
        gunicorn = start_gunicorn(env, port, var_dir / "gunicorn.log", probe="/accounts/login/")
        rows = measure(f"http://127.0.0.1:{port}", args.loads)
        load_after = os.getloadavg()
    finally:
        if gunicorn is not None and gunicorn.poll() is None:
            os.killpg(gunicorn.pid, signal.SIGTERM)
            gunicorn.wait(timeout=30)
        engine.stop()
    report(rows, args, load_before, load_after)
    return 0


def manage(env: dict[str, str], *command: str) -> None:
    subprocess.run(  # noqa: S603 (manage.py, fixed commands)
        [sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL
    )


def extras() -> None:
    """What the demo data lacks for some pages: at Acme, a settlement file of 200 of its captured
    payments (one line with the wrong amount, so a discrepancy) processed through the same services
    an upload uses, and a dispute on one payment. Imported here: the models need Django set up."""
    from core.actor import Actor
    from disputes.services.opening import dispute_open
    from merchants.selectors import merchant_list
    from payments.selectors import payment_list_for_merchant
    from reconciliation.csvfile import REQUIRED_COLUMNS, major_units
    from reconciliation.services.intake import settlement_create
    from reconciliation.services.processing import settlement_process

    actor = Actor(type="system", id="bench-pages")
    acme = next(m for m in merchant_list() if m.name.startswith("Acme"))
    captured = payment_list_for_merchant(
        merchant_id=acme.merchant_id,
        status="succeeded",
        limit=201,
        created_lt=datetime.now(UTC) - timedelta(days=4),
    ).items
    out = io.StringIO()
    rows = csv.writer(out)
    rows.writerow(REQUIRED_COLUMNS)
    for index, payment in enumerate(captured[1:]):
        amount = payment.amount_captured + (100 if index == 7 else 0)
        fee = amount * 29 // 1000 + 30
        money = [major_units(value, payment.currency) for value in (amount, fee, amount - fee)]
        rows.writerow([payment.payment_id, money[0], payment.currency.upper(), money[1], money[2], "settled",
                       f"{payment.created:%Y-%m-%d}"])  # fmt: skip
    intake = settlement_create(
        merchant_id=acme.merchant_id,
        actor=actor,
        file=io.BytesIO(out.getvalue().encode()),
        filename="bench-settlement.csv",
        enqueue=False,
    )
    settlement_process(merchant_id=acme.merchant_id, settlement_id=intake.settlement.settlement_id)
    dispute_open(merchant_id=acme.merchant_id, payment_id=captured[0].payment_id, actor=actor)


def sign_in(base: str, username: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/accounts/login/", timeout=60)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    if token is None:
        raise SystemExit(f"bench: no sign-in form ({page.status_code})")
    answer = session.post(
        f"{base}/accounts/login/",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token.group(1)},
        headers={"Referer": f"{base}/accounts/login/"},
        allow_redirects=False,
        timeout=60,
    )
    if answer.status_code != 302:
        raise SystemExit(f"bench: signing {username} in answered {answer.status_code}")
    home = session.get(f"{base}/", timeout=60)
    if "/merchant/choose/" in home.url:  # ops staff: act for the first merchant the chooser offers
        chooser = session.get(f"{base}/merchant/choose/", timeout=60)
        merchant = re.search(r'name="merchant_id" value="([^"]+)"', chooser.text)
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', chooser.text)
        if merchant and csrf:
            session.post(
                f"{base}/merchant/switch/",
                data={"merchant_id": merchant.group(1), "csrfmiddlewaretoken": csrf.group(1)},
                headers={"Referer": f"{base}/merchant/choose/"},
                timeout=60,
            )
    return session


def pages_of(session, base: str) -> list[str]:
    """The fixed pages, the links of the navigation bar and the first detail page of each list."""
    today = datetime.now(UTC).date()
    found = [page.format(today=today, week_ago=today - timedelta(days=7)) for page in PAGES]
    home = session.get(f"{base}/", timeout=60).text
    nav = re.search(r"<nav\b.*?</nav>", home, re.S)
    for link in re.findall(r'href="(/[^"#]*)"', nav.group(0) if nav else home):
        found.append(link.replace("&amp;", "&"))
    for listing, pattern in DETAILS:
        answer = session.get(f"{base}{listing}", timeout=60, allow_redirects=False)
        link = re.search(pattern, answer.text) if answer.status_code == 200 else None
        if link:
            found.append(link.group(0))
    unique = list(dict.fromkeys(found))
    return [page for page in unique if not SKIP.search(page)]


def measure(base: str, loads: int) -> list[dict]:
    rows = []
    for role, username in ROLES.items():
        session = sign_in(base, username)
        pages = pages_of(session, base)
        say(f"{role} ({username}): {len(pages)} pages, {loads} loads each")
        for page in pages:
            times, status = [], None
            for attempt in range(WARMUP + loads):
                started = time.perf_counter()
                answer = session.get(f"{base}{page}", timeout=120, allow_redirects=False)
                elapsed = (time.perf_counter() - started) * 1000
                status = answer.status_code
                if status != 200:
                    break
                if attempt >= WARMUP:
                    times.append(elapsed)
            if status != 200:
                rows.append({"role": role, "page": page, "status": status})
                continue
            rows.append({
                "role": role,
                "page": page,
                "status": 200,
                "loads": len(times),
                "p50_ms": round(statistics.median(times), 1),
                "p95_ms": round(percentile(times, 95), 1),
                "max_ms": round(max(times), 1),
                "bytes": len(answer.content),
            })  # fmt: skip
    return rows


def report(rows: list[dict], args: argparse.Namespace, before: tuple, after: tuple) -> None:
    timed = [row for row in rows if row["status"] == 200]
    slow = [row for row in timed if row["p95_ms"] > GOAL_MS]
    print(f"\nDashboard pages on the demo data ({args.payments:,} payments), {args.loads} loads each, "
          f"time to the last byte over loopback (gunicorn, {serving_described()}):")  # fmt: skip
    print(f"  {'role':<9} {'page':<58} {'p50 ms':>8} {'p95 ms':>8}")
    for row in timed:
        flag = "  OVER 300 ms" if row["p95_ms"] > GOAL_MS else ""
        print(f"  {row['role']:<9} {row['page'][:58]:<58} {row['p50_ms']:>8.1f} {row['p95_ms']:>8.1f}{flag}")
    refused = [f"{row['role']} {row['page']} ({row['status']})" for row in rows if row["status"] != 200]
    if refused:
        print("  not timed (refused or redirected for that role): " + ", ".join(refused))
    print(f"  {len(timed)} page loads timed, {len(slow)} with p95 over {GOAL_MS:.0f} ms (goal: none)")
    print("  load average (1, 5, 15 min) before: {:.2f} {:.2f} {:.2f}, after: {:.2f} {:.2f} {:.2f}".format(
        *before, *after))  # fmt: skip
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({
        "payments": args.payments,
        "loads": args.loads,
        "goal_ms": GOAL_MS,
        "pages": rows,
        "slow": [f"{row['role']} {row['page']}" for row in slow],
        "load_average_before": before,
        "load_average_after": after,
        "cpu_count": os.cpu_count(),
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
