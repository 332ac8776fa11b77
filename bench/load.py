#!/usr/bin/env python
"""Load run: concurrent clients against gunicorn on DynamoDB Local, then an invariant check.

    python bench/load.py [--clients 50] [--seconds 60] [--endpoint URL] [--json PATH]

Starts an in-memory DynamoDB Local (or uses `--endpoint`) and gunicorn (as `bench/run.py`) on free 127.0.0.1
ports, creates 3 merchants with an API key and a dashboard admin each, then runs `--clients` threads
for `--seconds` seconds. Each client, with its own seeded random choice, mixes: payment creates
(new Idempotency-Key), creates repeating an earlier key of its own (replays), creates with the sandbox's
timeout card followed by the client's retry with the same key (processor faults), partial refunds of
its own payments, list and summary calls, and dashboard pages (home, payment list) signed in.

Afterwards, through the API: every 2xx create exists exactly once in its merchant's list, every replay
answered the same payment as its original, each payment's refunded amount equals its 2xx refunds,
the summary equals the listed payments, no answer was a 5xx (other than the timeout card's 504), every
timeout named a payment that its retry resolved, and the processor authorized each timed-out request
once. Prints throughput and p50/p95/p99 per
operation and writes var/bench/load.json (or `--json`). Exit status 1 when an invariant fails.
Loopback only; bounded by time, every request has a timeout. Not a test: it asserts no timing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import environment, percentile, serving_described, start_gunicorn  # noqa: E402
from core import dynamodb_local  # noqa: E402

MERCHANTS = 3
PASSWORD = "load-run-password-2026"
CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"}
TIMEOUT_CARD = {**CARD, "number": "4000000000000259"}  # approved at the sandbox processor, the answer lost
TIMEOUT = 30
# operation: weight
MIX = {
    "create": 32,
    "replay": 10,
    "timeout": 3,
    "refund": 15,
    "list": 20,
    "summary": 5,
    "page_home": 5,
    "page_payments": 10,
}


def say(message: str) -> None:
    print(f"[load {time.strftime('%H:%M:%S')}] {message}", flush=True)


@dataclass
class Merchant:
    merchant_id: str
    secret: str
    username: str


@dataclass
class Record:
    """What every client saw (appended under a lock)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, dict[int, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    errors: list[str] = field(default_factory=list)
    creates: dict[tuple[str, str], dict] = field(default_factory=dict)  # (merchant, key) -> first 2xx body
    replays: list[tuple[str, str, dict]] = field(default_factory=list)  # (merchant, key, body)
    refunds: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # payment id -> refunded
    timeouts: list[tuple[str, str | None, dict | None]] = field(default_factory=list)  # (key, named, resolved)

    def note(self, operation: str, seconds: float, status: int) -> None:
        with self.lock:
            self.latencies[operation].append(seconds)
            self.statuses[operation][status] += 1


class LoginFailed(Exception):
    pass


def _login(session, base: str, username: str) -> None:
    page = session.get(f"{base}/accounts/login/", timeout=TIMEOUT)
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    if page.status_code != 200 or found is None:
        raise LoginFailed(f"the sign-in page answered {page.status_code}")
    token = found.group(1)
    response = session.post(
        f"{base}/accounts/login/",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base}/accounts/login/"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    if response.status_code != 302:
        raise LoginFailed(f"signing {username} in answered {response.status_code}")


def client_loop(number: int, base: str, merchant: Merchant, stop_at: float, record: Record) -> None:
    import requests

    rng = random.Random(number)
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {merchant.secret}"
    pages = requests.Session()
    try:
        _login(pages, base, merchant.username)
    except (requests.RequestException, LoginFailed) as error:
        with record.lock:
            record.errors.append(f"sign-in: {error}")
        return
    mine: list[tuple[str, dict]] = []  # (key, body) of my 2xx creates
    paid: list[str] = []
    sequence = 0
    operations, weights = list(MIX), list(MIX.values())
    # Every operation once (in MIX's order, even past the deadline), then the weighted mix until it.
    first_round = list(MIX)
    while first_round or time.monotonic() < stop_at:
        operation = first_round.pop(0) if first_round else rng.choices(operations, weights)[0]
        if operation == "replay" and not mine:
            operation = "create"
        if operation == "refund" and not paid:
            operation = "list"
        started = time.monotonic()
        try:
            if operation in ("create", "replay"):
                if operation == "create":
                    sequence += 1
                    key = f"c{number}-{sequence}"
                    body = {"amount": rng.randint(500, 20000), "currency": "usd", "card": CARD}
                else:
                    key, body = rng.choice(mine)
                response = api.post(
                    f"{base}/api/v1/payments", json=body, headers={"Idempotency-Key": key}, timeout=TIMEOUT
                )
                if response.status_code == 201:
                    answer = response.json()
                    with record.lock:
                        if operation == "create":
                            record.creates[(merchant.merchant_id, key)] = answer
                        else:
                            record.replays.append((merchant.merchant_id, key, answer))
                    if operation == "create":
                        mine.append((key, body))
                        paid.append(answer["id"])
            elif operation == "timeout":
                sequence += 1
                key = f"t{number}-{sequence}"
                body = {"amount": rng.randint(500, 20000), "currency": "usd", "card": TIMEOUT_CARD}
                first = api.post(
                    f"{base}/api/v1/payments", json=body, headers={"Idempotency-Key": key}, timeout=TIMEOUT
                )
                is_problem = first.headers.get("Content-Type", "").startswith("application/problem+json")
                named = first.json().get("payment_id") if first.status_code == 504 and is_problem else None
                # The client's retry with the same key gets the outcome the processor decided.
                response = api.post(
                    f"{base}/api/v1/payments", json=body, headers={"Idempotency-Key": key}, timeout=TIMEOUT
                )
                resolved = response.json() if response.status_code == 201 else None
                with record.lock:
                    record.timeouts.append((key, named, resolved))
                    if resolved is not None:
                        record.creates[(merchant.merchant_id, key)] = resolved
                if resolved is not None:
                    mine.append((key, body))
                    paid.append(resolved["id"])
            elif operation == "refund":
                payment_id = rng.choice(paid)
                sequence += 1
                response = api.post(
                    f"{base}/api/v1/payments/{payment_id}/refunds",
                    json={"amount": 100},
                    headers={"Idempotency-Key": f"r{number}-{sequence}"},
                    timeout=TIMEOUT,
                )
                if response.status_code == 201:
                    with record.lock:
                        record.refunds[payment_id] += 100
            elif operation == "list":
                response = api.get(f"{base}/api/v1/payments", params={"limit": 20}, timeout=TIMEOUT)
            elif operation == "summary":
                response = api.get(f"{base}/api/v1/payments/summary", timeout=TIMEOUT)
            elif operation == "page_home":
                response = pages.get(f"{base}/", timeout=TIMEOUT)
            else:
                response = pages.get(f"{base}/payments/", timeout=TIMEOUT)
            record.note(operation, time.monotonic() - started, response.status_code)
        except requests.RequestException as error:
            record.note(operation, time.monotonic() - started, 0)
            with record.lock:
                record.errors.append(f"{operation}: {type(error).__name__}")


def _all_payments(base: str, merchant: Merchant) -> list[dict]:
    import requests

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {merchant.secret}"
    payments, cursor = [], None
    while True:
        params = {"limit": 100, **({"starting_after": cursor} if cursor else {})}
        page = session.get(f"{base}/api/v1/payments", params=params, timeout=TIMEOUT).json()
        payments.extend(page["data"])
        if not page.get("has_more"):
            return payments
        cursor = page.get("next_cursor") or page["data"][-1]["id"]


def check_invariants(base: str, merchants: list[Merchant], record: Record) -> dict[str, list[str]]:
    """Each invariant with the violations found (an empty list: it holds)."""
    import requests

    found: dict[str, list[str]] = {
        "no_5xx": [],
        "creates_once": [],
        "replays_match": [],
        "refunds": [],
        "summary": [],
        "timeouts_resolved": [],
        "charged_once": [],
    }
    found["no_5xx"].extend(record.errors)  # a client that could not sign in or got no answer
    for operation, statuses in record.statuses.items():
        for status, count in statuses.items():
            if status >= 500 or status == 0:
                found["no_5xx"].append(f"{operation}: {count} x {status or 'no answer'}")
    for merchant in merchants:
        listed = _all_payments(base, merchant)
        counts: dict[str, int] = defaultdict(int)
        for payment in listed:
            counts[payment["id"]] += 1
        created = {body["id"] for (mid, _), body in record.creates.items() if mid == merchant.merchant_id}
        for payment_id in created:
            if counts.get(payment_id) != 1:
                found["creates_once"].append(f"{payment_id} listed {counts.get(payment_id, 0)} times")
        for payment_id in set(counts) - created:
            found["creates_once"].append(f"{payment_id} exists without a 2xx create")
        for payment in listed:
            if int(payment["amount_refunded"]) != record.refunds.get(payment["id"], 0):
                found["refunds"].append(
                    f"{payment['id']}: refunded {payment['amount_refunded']}, 2xx refunds {record.refunds.get(payment['id'], 0)}"
                )
        summary = requests.get(
            f"{base}/api/v1/payments/summary", headers={"Authorization": f"Bearer {merchant.secret}"}, timeout=TIMEOUT
        ).json()
        usd = summary["currencies"].get("usd", {"count": 0, "amount": 0, "captured": 0, "refunded": 0})
        expected = {
            "count": len(listed),
            "amount": sum(p["amount"] for p in listed),
            "captured": sum(p["amount_captured"] for p in listed),
            "refunded": sum(p["amount_refunded"] for p in listed),
        }
        got = {name: usd[name] for name in expected}
        if got != expected:
            found["summary"].append(f"{merchant.merchant_id}: summary {got}, payments {expected}")
    for merchant_id, key, body in record.replays:
        original = record.creates.get((merchant_id, key))
        if original is None or original != body:
            found["replays_match"].append(f"{key}: replay {body.get('id')} vs original {original and original['id']}")
    for key, named, resolved in record.timeouts:
        if named is None or resolved is None or resolved["id"] != named or resolved["status"] != "succeeded":
            found["timeouts_resolved"].append(f"{key}: 504 named {named}, the retry answered {resolved}")
    # The sandbox records each timed-out request it approved, once per processor reference.
    from sandbox.models import SandboxAuthorization

    timed_out = sum(1 for _, named, _ in record.timeouts if named is not None)
    if SandboxAuthorization.objects.count() != timed_out:
        found["charged_once"].append(f"{SandboxAuthorization.objects.count()} authorizations for {timed_out} timeouts")
    return found


def figures(record: Record, seconds: float) -> dict[str, dict]:
    table = {}
    for operation in MIX:
        values = [s * 1000 for s in record.latencies.get(operation, [])]
        if not values:
            continue
        table[operation] = {
            "requests": len(values),
            "per_second": round(len(values) / seconds, 1),
            "p50_ms": round(percentile(values, 50), 1),
            "p95_ms": round(percentile(values, 95), 1),
            "p99_ms": round(percentile(values, 99), 1),
            "statuses": {str(k): v for k, v in sorted(record.statuses[operation].items())},
        }
    return table


def prepare(actor_name: str = "load") -> list[Merchant]:
    from django.contrib.auth import get_user_model

    from core import tables
    from core.actor import Actor
    from merchants.models import Membership
    from merchants.services import api_key_create, merchant_create

    tables.tables_create()
    actor = Actor(type="system", id=actor_name)
    merchants = []
    for n in range(MERCHANTS):
        merchant = merchant_create(name=f"Load {n + 1}", actor=actor)
        secret = api_key_create(merchant_id=merchant.merchant_id, name="load", actor=actor).secret
        username = f"load-admin-{n + 1}"
        user = get_user_model().objects.create_user(username=username, password=PASSWORD)
        Membership.objects.create(user=user, merchant_id=merchant.merchant_id, role="admin")
        merchants.append(Merchant(merchant.merchant_id, secret, username))
    return merchants


@contextmanager
def served(endpoint: str | None, name: str = "load") -> Iterator[tuple[str, list[Merchant]]]:
    """gunicorn (as `bench/run.py` serves) on DynamoDB Local (`endpoint`, or one started in memory) with fresh tables,
    merchants, keys and dashboard admins: yields (base URL, merchants); stops what it started."""
    var_dir = Path(tempfile.mkdtemp(prefix=f"paysite-{name}-"))
    engine = None if endpoint else dynamodb_local.start(port=dynamodb_local.free_port(), db_path=None)
    gunicorn = None
    try:
        env = environment(endpoint or engine.endpoint, var_dir)
        env["DYNAMODB_TABLE_PREFIX"] = f"{name}{os.getpid()}-"
        env["SESSION_IDLE_MINUTES"] = "60"
        os.environ.update(env)
        for command in (["migrate", "--noinput"], ["collectstatic", "--noinput"]):
            # collectstatic: pages need the production static manifest (whitenoise), as in a deployment.
            subprocess.run(  # noqa: S603 (our own manage.py)
                [sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL
            )
        import django

        django.setup()
        merchants = prepare(name)
        port = dynamodb_local.free_port()
        gunicorn = start_gunicorn(env, port, var_dir / "gunicorn.log")
        yield f"http://127.0.0.1:{port}", merchants
    finally:
        if gunicorn is not None and gunicorn.poll() is None:
            os.killpg(gunicorn.pid, signal.SIGTERM)
            gunicorn.wait(timeout=30)
        if engine is not None:
            engine.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--endpoint", help="a running DynamoDB Local (default: start one in memory)")
    parser.add_argument("--json", type=Path, default=ROOT / "var" / "bench" / "load.json")
    args = parser.parse_args()

    with served(args.endpoint) as (base, merchants):
        say(f"{args.clients} clients for {args.seconds:g} s against gunicorn ({serving_described()}) on DynamoDB Local")
        record = Record()
        started = time.monotonic()
        stop_at = started + args.seconds
        threads = [
            threading.Thread(target=client_loop, args=(n, base, merchants[n % MERCHANTS], stop_at, record), daemon=True)
            for n in range(args.clients)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=args.seconds + 2 * TIMEOUT + 30)
        elapsed = time.monotonic() - started
        say("checking invariants")
        violations = check_invariants(base, merchants, record)
    total = sum(len(v) for v in record.latencies.values())
    result = {
        "clients": args.clients,
        "seconds": round(elapsed, 1),
        "requests": total,
        "per_second": round(total / elapsed, 1),
        "creates_2xx": len(record.creates),
        "replays_2xx": len(record.replays),
        "timeouts_resolved": sum(1 for _, named, resolved in record.timeouts if named and resolved),
        "refunds_2xx": sum(v // 100 for v in record.refunds.values()),
        "operations": figures(record, elapsed),
        "invariants": {name: (not found) for name, found in violations.items()},
        "violations": {name: found[:20] for name, found in violations.items() if found},
        "client_errors": record.errors[:20],
        "cpu_count": os.cpu_count(),
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))
    print_table(result)
    return 0 if all(result["invariants"].values()) else 1


def print_table(result: dict) -> None:
    print(
        f"\nLoad: {result['clients']} clients, {result['seconds']} s, {result['requests']:,} requests "
        f"({result['per_second']}/s); {result['creates_2xx']} creates, {result['replays_2xx']} replays, "
        f"{result['timeouts_resolved']} timeouts resolved by a retry, "
        f"{result['refunds_2xx']} refunds"
    )
    print(f"{'operation':<15}{'requests':>9}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}  statuses")
    for name, row in result["operations"].items():
        print(
            f"{name:<15}{row['requests']:>9}{row['per_second']:>8}{row['p50_ms']:>9}{row['p95_ms']:>9}{row['p99_ms']:>9}"
            f"  {row['statuses']}"
        )
    print("invariants: " + ", ".join(f"{k} {'ok' if v else 'FAILED'}" for k, v in result["invariants"].items()))
    for name, found in result["violations"].items():
        print(f"  {name}: {found}")


if __name__ == "__main__":
    sys.exit(main())
