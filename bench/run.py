#!/usr/bin/env python
"""`make bench`: the payments API against DynamoDB Local, behind a real gunicorn (4 `gthread` workers
of one thread, as in production: two per core of this 2-core machine, so a worker waiting on
DynamoDB leaves its core to another, and connections kept open between requests).

Starts its own in-memory DynamoDB Local and gunicorn on free 127.0.0.1 ports, measures, prints a
table and writes var/bench/<name>.json, then stops both. Not a test: nothing here asserts a timing.

    BENCH_PAYMENTS   payments loaded for the list/summary/export figures (default 100000)
    BENCH_REQUESTS   requests per latency figure (default 300)
    BENCH_WORKERS    gunicorn workers (default 4: two per core here)
    BENCH_THREADS    threads per gunicorn worker (`gthread` workers; default 1, as in production; 0: sync workers)

What it measures, on the same data in one run:
- raw boto3 calls, the very DynamoDB calls of a create in turn (the key and merchant read, the
  idempotency claim, the transaction, the request log) vs POST /api/v1/payments over HTTP (median,
  p99, ratio); an idempotent replay; the same at 1, 8 and 32 clients (bench/concurrency.py). The
  creates are sent with the standard library's `http.client` (`post_json`, a connection per client
  thread, kept while the server keeps it): `requests` spends about 1.5 ms of CPU on each, a third
  of that, in this process and on the cores the server needs;
- GET /payments?limit=100, GET /payments/summary over 90 days, GET /payments/export of every row
  (rows/s and the serving worker's peak RSS), with BENCH_PAYMENTS payments for one merchant;
- DynamoDB capacity units per create, capture, refund, list page and summary (ReturnConsumedCapacity).

The bulk payments are written with BatchWriteItem straight into the tables (payment items plus the
daily summary counters they imply), clearly not through the API: loading 100,000 payments through
the API would take the whole run. Latency figures use payments made through the API.
"""

from __future__ import annotations

import copy
import functools
import http.client
import itertools
import json
import os
import re
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import boto3  # noqa: E402
import requests  # noqa: E402
from botocore import xform_name  # noqa: E402
from botocore.config import Config as BotoConfig  # noqa: E402

from bench import concurrency  # noqa: E402
from core import dynamodb_local  # noqa: E402

PAYMENTS = int(os.environ.get("BENCH_PAYMENTS") or 100000)
REQUESTS = int(os.environ.get("BENCH_REQUESTS") or 300)
THREADS = int(os.environ.get("BENCH_THREADS") or 1)  # 0: sync workers
WORKERS = int(os.environ.get("BENCH_WORKERS") or 4)
LOAD_THREADS = int(os.environ.get("BENCH_LOAD_THREADS") or 6)
OUT = ROOT / "var" / "bench"
CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2034, "cvc": "123"}


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summarise(name: str, seconds: list[float]) -> dict:
    ms = [s * 1000 for s in seconds]
    return {
        "name": name,
        "n": len(ms),
        "median_ms": round(statistics.median(ms), 2),
        "p99_ms": round(percentile(ms, 99), 2),
        "mean_ms": round(statistics.fmean(ms), 2),
    }


def environment(endpoint: str, var_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PAYSITE_ENV_FILE": "",
        "PAYSITE_VAR_DIR": str(var_dir),
        "DJANGO_SETTINGS_MODULE": "paysite.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECURE": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(60),
        "FIELD_ENCRYPTION_KEY": secrets.token_urlsafe(32),
        "FINGERPRINT_KEY": secrets.token_urlsafe(32),
        "AUDIT_SIGNING_KEY": secrets.token_urlsafe(32),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "PYTHONWARNINGS": "ignore::UserWarning",
        "DYNAMODB_ENDPOINT": endpoint,
        "DYNAMODB_REGION": "us-east-1",
        "DYNAMODB_TABLE_PREFIX": "bench-",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "DEFAULT_RATE_LIMIT_PER_MINUTE": "100000000",
        "TASKS_BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
        "LOG_LEVEL": "WARNING",
    }


# --- capacity and request capture (botocore events) -------------------------------------------


class Recorder:
    """Adds ReturnConsumedCapacity=TOTAL to every DynamoDB call and sums what comes back; while
    `capturing`, also keeps a copy of each request, in order, in `captured` (operation, params)."""

    def __init__(self, client) -> None:
        self.units = 0.0
        self.calls: list[str] = []
        self.captured: list[tuple[str, dict]] = []
        self.capturing = False
        client.meta.events.register("provide-client-params.dynamodb.*", self._params)
        client.meta.events.register("after-call.dynamodb.*", self._after)

    def _params(self, params, model, **_):
        if "ReturnConsumedCapacity" in model.input_shape.members:
            params.setdefault("ReturnConsumedCapacity", "TOTAL")
        if self.capturing:
            self.captured.append((model.name, copy.deepcopy(params)))
        return None

    def _after(self, parsed, model, **_):
        consumed = parsed.get("ConsumedCapacity")
        items = consumed if isinstance(consumed, list) else [consumed] if consumed else []
        self.units += sum(float(item.get("CapacityUnits", 0)) for item in items)
        self.calls.append(model.name)

    def reset(self) -> None:
        self.units, self.calls = 0.0, []


# --- bulk data --------------------------------------------------------------------------------


def load_payments(*, merchant_id: str, count: int, days: int) -> float:
    """BatchWriteItem `count` payments spread over `days` days, and the daily summary counters the
    services would have kept for them. Returns seconds taken."""
    from django.conf import settings

    from core.ids import new_id
    from payments.models import CardAttribute, DailySummary, Payment

    started = time.monotonic()
    now = datetime.now(UTC).replace(microsecond=0)
    statuses = ["succeeded"] * 7 + ["failed", "refunded", "partially_refunded"]
    counters: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    step = timedelta(days=days) / count
    chunks: list[list[Payment]] = []
    chunk: list[Payment] = []
    for n in range(count):
        at = now - timedelta(days=days) + step * n
        at = at.replace(microsecond=at.microsecond // 1000 * 1000)
        status = statuses[n % len(statuses)]
        amount = 500 + (n * 37) % 20000
        captured = amount if status in ("succeeded", "refunded", "partially_refunded") else 0
        refunded = amount if status == "refunded" else amount // 2 if status == "partially_refunded" else 0
        payment_id = new_id("pay", at)
        description = f"Order {n}" if n % 3 else f"=cmd|' /C calc'!A{n}"  # some formula-like text
        chunk.append(
            Payment(
                payment_id=payment_id,
                merchant_id=merchant_id,
                merchant_status=f"{merchant_id}#{status}",
                status=status,
                amount=amount,
                currency="usd",
                amount_captured=captured,
                amount_refunded=refunded,
                customer_id=None,
                description=description,
                metadata={"order": str(n)},
                card=CardAttribute(brand="visa", last4="4242", exp_month=12, exp_year=2034, fingerprint="0" * 32),
                failure_code="card_declined" if status == "failed" else None,
                created=at,
                updated=at,
                version=1,
            )
        )
        shard = zlib.crc32(payment_id.encode()) % settings.SUMMARY_SHARDS
        key = f"{at:%Y-%m-%d}#usd#{shard}"
        counters[key][f"count_{status}"] += 1
        counters[key][f"amount_{status}"] += amount
        counters[key]["captured"] += captured
        counters[key]["refunded"] += refunded
        counters[key]["refund_count"] += 1 if refunded else 0
        if len(chunk) == 500:
            chunks.append(chunk)
            chunk = []
    if chunk:
        chunks.append(chunk)

    from core import dynamodb

    client = dynamodb.connection().client
    table = Payment.Meta.table_name

    def write(part: list[Payment]) -> None:
        items = [{"PutRequest": {"Item": payment.serialize()}} for payment in part]
        for start in range(0, len(items), 25):
            pending = {table: items[start : start + 25]}
            while pending:
                answer = client.batch_write_item(RequestItems=pending)
                pending = answer.get("UnprocessedItems") or {}

    done = [0]
    lock = threading.Lock()

    def worker(parts: list[list[Payment]]) -> None:
        for part in parts:
            write(part)
            with lock:
                done[0] += len(part)

    threads = [threading.Thread(target=worker, args=(chunks[i::LOAD_THREADS],)) for i in range(LOAD_THREADS)]
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        time.sleep(5)
        say(f"  loaded {done[0]:,} / {count:,} payments")
    for thread in threads:
        thread.join()
    with DailySummary.batch_write() as batch:
        for key, values in counters.items():
            batch.save(DailySummary(merchant_id=merchant_id, day_currency_shard=key, **values))
    return time.monotonic() - started


# --- processes --------------------------------------------------------------------------------


_connections = threading.local()


def post_json(port: int, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    """POST a JSON body; returns the status, the headers (lower-case names) and the body. Each thread
    keeps its connection while the server keeps it open (gthread workers do; sync workers close
    every one, and the next request opens a new one). A kept connection the server closed while idle
    is opened again and the request sent once more (every POST here carries an Idempotency-Key)."""
    kept = getattr(_connections, "open", None)
    for connection in ([kept] if kept is not None and kept.port == port else []) + [None]:
        if connection is None:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        _connections.open = connection
        try:
            connection.request("POST", path, body=body, headers={"Content-Type": "application/json", **headers})
            response = connection.getresponse()
            answer = response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            connection.close()
            _connections.open = None
            if connection is kept:
                continue  # closed by the server while idle: once more on a new connection
            raise
        if response.will_close:
            connection.close()
            _connections.open = None
        return answer
    raise AssertionError("unreachable")


def serving_described() -> str:
    """How `start_gunicorn` serves, in words: "4 gthread workers of 1 thread"."""
    if not THREADS:
        return f"{WORKERS} sync workers"
    return f"{WORKERS} gthread workers of {THREADS} thread{'s' if THREADS > 1 else ''}"


def start_gunicorn(env: dict[str, str], port: int, log: Path, probe: str = "/api/v1/openapi.json") -> subprocess.Popen:
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "paysite.wsgi",
        "--workers",
        str(WORKERS),
        "--bind",
        f"127.0.0.1:{port}",
        "--timeout",
        "300",
        "--log-level",
        "warning",
    ]
    if THREADS:
        command += ["--worker-class", "gthread", "--threads", str(THREADS)]
    process = subprocess.Popen(  # noqa: S603 (our own gunicorn, fixed arguments)
        command, cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"bench: gunicorn exited at start; see {log}")
        try:
            requests.get(f"http://127.0.0.1:{port}{probe}", timeout=10)  # a busy machine: the first answer is slow
            return process
        except requests.RequestException:
            time.sleep(0.5)
    raise SystemExit("bench: gunicorn did not answer within 60 seconds")


def worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    return [int(pid) for pid in children.read_text().split()] if children.exists() else []


def rss_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


# --- the run ----------------------------------------------------------------------------------


def main() -> None:
    var_dir = Path(tempfile.mkdtemp(prefix="paysite-bench-"))
    engine = dynamodb_local.start(port=dynamodb_local.free_port(), db_path=None)
    gunicorn = None
    say(f"DynamoDB Local (in memory) at {engine.endpoint}; {PAYMENTS:,} payments, {REQUESTS} requests per figure")
    try:
        env = environment(engine.endpoint, var_dir)
        os.environ.update(env)
        subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        import django

        django.setup()
        gunicorn, results = run(env, var_dir)
        write_results(results)
    finally:
        if gunicorn is not None and gunicorn.poll() is None:
            os.killpg(gunicorn.pid, signal.SIGTERM)
            gunicorn.wait(timeout=30)
        engine.stop()


def run(env: dict[str, str], var_dir: Path):
    from django.test import Client

    from core import dynamodb, tables
    from core.actor import Actor
    from merchants.services import api_key_create, merchant_create

    tables.tables_create()
    actor = Actor(type="system", id="bench")
    merchant = merchant_create(name="Bench", actor=actor)
    secret = api_key_create(merchant_id=merchant.merchant_id, name="bench", actor=actor).secret
    bulk = merchant_create(name="Bench bulk", actor=actor)
    bulk_secret = api_key_create(merchant_id=bulk.merchant_id, name="bench", actor=actor).secret
    client = dynamodb.connection().client
    recorder = Recorder(client)

    port = dynamodb_local.free_port()
    gunicorn = start_gunicorn(env, port, var_dir / "gunicorn.log")
    base = f"http://127.0.0.1:{port}/api/v1"
    body = {"amount": 2500, "currency": "usd", "card": CARD, "description": "bench"}
    body_bytes, auth = json.dumps(body).encode(), {"Authorization": f"Bearer {secret}"}
    results: dict = {
        "payments_loaded": PAYMENTS,
        "requests_per_figure": REQUESTS,
        "threads": THREADS,
        "workers": WORKERS,
        "figures": [],
    }

    # 1. the same calls through raw boto3 vs through the API ------------------------------------
    # A create's DynamoDB calls, captured from the second create of the key (the first one of a
    # process reads the key and then its merchant; later ones read both in one BatchGetItem).
    say("capturing one create's DynamoDB calls")
    django_client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    for label in ("template-first", "template"):
        recorder.captured, recorder.capturing = [], label == "template"
        response = django_client.post(
            "/api/v1/payments",
            json.dumps(body),
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=label,
            **headers,
        )
        assert response.status_code == 201, response.content[:300]
    recorder.capturing = False
    template = recorder.captured
    template_calls = [name for name, _ in template]
    assert "TransactWriteItems" in template_calls, f"no TransactWriteItems seen: {template_calls}"
    raw_template = json.dumps(template)
    ids = sorted(set(re.findall(r"\b(?:pay|txn|evt|re|req)_[0-9A-HJKMNP-TV-Z]{26}\b", raw_template)))
    record_key = f"{merchant.merchant_id}#POST /payments#template"
    assert record_key in raw_template, "the create did not claim an idempotency record"
    from core.ids import new_id

    def raw_create(label: str) -> list[tuple[str, dict]]:
        """The create's calls in order, with fresh ids and its own idempotency key; the claim's lock
        token is the captured one, which the transaction's completion of the record is conditioned on."""
        text = raw_template.replace(record_key, f"{merchant.merchant_id}#POST /payments#{label}")
        for old in ids:
            text = text.replace(old, new_id(old.split("_", 1)[0]))
        calls = []
        for name, params in json.loads(text):
            params.pop("ReturnConsumedCapacity", None)
            params.pop("ClientRequestToken", None)
            calls.append((name, params))
        return calls

    def raw_run(on, calls: list[tuple[str, dict]]) -> None:
        for name, params in calls:
            getattr(on, xform_name(name))(**params)

    # The raw side: a plain boto3 client (none of the app's hooks), a connection per thread (botocore
    # keeps 10 by default) for the concurrency section.
    raw_client = boto3.client(
        "dynamodb",
        endpoint_url=env["DYNAMODB_ENDPOINT"],
        region_name="us-east-1",
        config=BotoConfig(max_pool_connections=64),
    )
    # The raw calls and the API's creates take turns, so both meet the engine in the same state (run
    # one side first and it alone pays for DynamoDB Local's warm-up: its JIT, its first pages).
    say(f"raw calls of a create ({', '.join(template_calls)}) and POST /payments over HTTP, in turn, x {REQUESTS}")
    raw_times: list[float] = []
    api_times, created = [], []
    for n in range(REQUESTS):
        calls = raw_create(f"raw-{n}")
        started = time.perf_counter()
        raw_run(raw_client, calls)
        raw_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        status, _, answer = post_json(port, "/api/v1/payments", body_bytes, {**auth, "Idempotency-Key": f"api-{n}"})
        api_times.append(time.perf_counter() - started)
        assert status == 201, answer[:300]
        created.append(json.loads(answer)["id"])
    raw = summarise(f"raw boto3, a create's {len(template_calls)} calls in turn", raw_times)
    raw["dynamodb_calls"] = template_calls
    api = summarise("POST /api/v1/payments over HTTP (gunicorn)", api_times)
    api["ratio_to_raw_median"] = round(api["median_ms"] / raw["median_ms"], 2)
    api["ratio_to_raw_p99"] = round(api["p99_ms"] / raw["p99_ms"], 2)

    say(f"idempotent replay x {REQUESTS}")
    replay_times = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        _, answer_headers, _ = post_json(port, "/api/v1/payments", body_bytes, {**auth, "Idempotency-Key": "api-0"})
        replay_times.append(time.perf_counter() - started)
        assert answer_headers.get("idempotent-replayed") == "true"
    replay = summarise("POST /api/v1/payments replay (Idempotent-Replayed)", replay_times)
    results["figures"] += [raw, api, replay]

    # 1b. the same at 1, 8 and 32 clients (bench/concurrency.py) -----------------------------------
    labels = itertools.count()

    def api_create() -> None:
        status, _, answer = post_json(
            port, "/api/v1/payments", body_bytes, {**auth, "Idempotency-Key": f"c-{next(labels)}"}
        )
        if status != 201:
            raise RuntimeError(f"a create answered {status}: {answer[:200]!r}")

    def raw_calls(count: int) -> list:
        prepared = [raw_create(f"c-raw-{next(labels)}") for _ in range(count)]
        return [functools.partial(raw_run, raw_client, calls) for calls in prepared]

    results["concurrency"] = concurrency.compare(
        lambda count: [api_create] * count, raw_calls, per_level=min(REQUESTS, 200), say=say
    )

    # 2. reads over BENCH_PAYMENTS payments --------------------------------------------------------
    say(f"loading {PAYMENTS:,} payments for one merchant with BatchWriteItem (benchmark data, not through the API)")
    load_seconds = load_payments(merchant_id=bulk.merchant_id, count=PAYMENTS, days=89)
    results["load"] = {
        "payments": PAYMENTS,
        "seconds": round(load_seconds, 1),
        "method": f"BatchWriteItem, {LOAD_THREADS} threads",
    }
    bulk_http = requests.Session()
    bulk_http.headers["Authorization"] = f"Bearer {bulk_secret}"

    say(f"GET /payments?limit=100 x {REQUESTS} (first page, then paging on), each beside the raw Query")
    from payments.models import Payment

    index_query = {
        "TableName": Payment.Meta.table_name,
        "IndexName": Payment.by_merchant.Meta.index_name,
        "KeyConditionExpression": "merchant_id = :merchant",
        "ExpressionAttributeValues": {":merchant": {"S": bulk.merchant_id}},
        "ScanIndexForward": False,
        "Limit": 101,  # the page and one more, as the API reads it
    }
    list_times, raw_list_times, cursor = [], [], None
    for _ in range(REQUESTS):
        params = {"limit": 100, **({"starting_after": cursor} if cursor else {})}
        started = time.perf_counter()
        response = bulk_http.get(f"{base}/payments", params=params)
        list_times.append(time.perf_counter() - started)
        start_key = {"merchant_id": {"S": bulk.merchant_id}, "payment_id": {"S": cursor}} if cursor else None
        started = time.perf_counter()
        raw_client.query(**index_query, **({"ExclusiveStartKey": start_key} if start_key else {}))
        raw_list_times.append(time.perf_counter() - started)
        page = response.json()
        assert response.status_code == 200 and len(page["data"]) == min(100, PAYMENTS)
        cursor = page["next_cursor"] if page["has_more"] else None
    raw_list = summarise("raw boto3 Query of the same page (101 items)", raw_list_times)
    api_list = summarise(f"GET /payments?limit=100 ({PAYMENTS:,} payments)", list_times)
    api_list["ratio_to_raw_median"] = round(api_list["median_ms"] / raw_list["median_ms"], 2)
    results["figures"] += [raw_list, api_list]

    say(f"GET /payments/summary over 90 days x {min(REQUESTS, 100)}")
    end = datetime.now(UTC) + timedelta(days=1)
    summary_params = {
        "created_gte": (end - timedelta(days=90)).strftime("%Y-%m-%dT00:00:00Z"),
        "created_lt": end.strftime("%Y-%m-%dT00:00:00Z"),
    }
    summary_times = []
    for _ in range(min(REQUESTS, 100)):
        started = time.perf_counter()
        response = bulk_http.get(f"{base}/payments/summary", params=summary_params)
        summary_times.append(time.perf_counter() - started)
        assert response.status_code == 200
    summary = response.json()
    counted = summary["currencies"]["usd"]["count"]
    results["figures"].append(
        summarise(f"GET /payments/summary, 90 days ({counted:,} payments counted)", summary_times)
    )

    say(f"GET /payments/export of {PAYMENTS:,} rows")
    workers = worker_pids(gunicorn.pid)
    before = {pid: (rss_kib(pid, "VmRSS"), rss_kib(pid, "VmHWM")) for pid in workers}
    started = time.perf_counter()
    rows, first_byte = 0, None
    with bulk_http.get(f"{base}/payments/export", stream=True) as response:
        assert response.status_code == 200
        for chunk in response.iter_content(chunk_size=65536):
            if first_byte is None:
                first_byte = time.perf_counter() - started
            rows += chunk.count(b"\n")
    seconds = time.perf_counter() - started
    after = {pid: (rss_kib(pid, "VmRSS"), rss_kib(pid, "VmHWM")) for pid in workers}
    grew = max(workers, key=lambda pid: after[pid][1] - before[pid][1]) if workers else None
    export = {
        "name": f"GET /payments/export ({rows - 1:,} rows)",
        "rows": rows - 1,
        "seconds": round(seconds, 2),
        "rows_per_second": round((rows - 1) / seconds),
        "first_byte_ms": round((first_byte or 0) * 1000, 1),
        "worker_rss_before_kib": before.get(grew, (0, 0))[0] if grew else None,
        "worker_peak_rss_kib": after.get(grew, (0, 0))[1] if grew else None,
        "worker_peak_rss_before_kib": before.get(grew, (0, 0))[1] if grew else None,
    }
    results["export"] = export

    # 3. capacity units per operation (in process, same code path as the server) -----------------
    say("consumed capacity per operation")
    capacity = {}

    def measure(name: str, call):
        recorder.reset()
        response = call()
        assert response.status_code in (200, 201), (name, response.status_code, response.content[:300])
        capacity[name] = {"capacity_units": round(recorder.units, 2), "dynamodb_calls": list(recorder.calls)}
        return response

    # As in a serving worker: the key, its merchant and the merchant's webhook endpoints were read by
    # an earlier request of this process (the endpoints are kept WEBHOOK_ENDPOINTS_CACHE_SECONDS).
    warm = django_client.post(
        "/api/v1/payments",
        json.dumps(body),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="cap-warm",
        **headers,
    )
    assert warm.status_code == 201, warm.content[:300]
    authorized = measure(
        "create (capture: false)",
        lambda: django_client.post(
            "/api/v1/payments",
            json.dumps({**body, "capture": False}),
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="cap-auth",
            **headers,
        ),
    ).json()
    measure(
        "create (captured)",
        lambda: django_client.post(
            "/api/v1/payments",
            json.dumps(body),
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="cap-create",
            **headers,
        ),
    )
    measure(
        "capture",
        lambda: django_client.post(
            f"/api/v1/payments/{authorized['id']}/capture",
            "",
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="cap-capture",
            **headers,
        ),
    )
    measure(
        "refund",
        lambda: django_client.post(
            f"/api/v1/payments/{authorized['id']}/refunds",
            json.dumps({"amount": 100}),
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="cap-refund",
            **headers,
        ),
    )
    measure(
        "replay",
        lambda: django_client.post(
            f"/api/v1/payments/{authorized['id']}/refunds",
            json.dumps({"amount": 100}),
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="cap-refund",
            **headers,
        ),
    )
    bulk_headers = {"HTTP_AUTHORIZATION": f"Bearer {bulk_secret}"}
    measure("list page (limit=100)", lambda: django_client.get("/api/v1/payments", {"limit": 100}, **bulk_headers))
    measure("summary (90 days)", lambda: django_client.get("/api/v1/payments/summary", summary_params, **bulk_headers))
    results["capacity"] = capacity
    return gunicorn, results


def write_results(results: dict) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    results["when"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    results["machine"] = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    (OUT / "payments_api.json").write_text(json.dumps(results, indent=2) + "\n")

    print()
    serving = serving_described()
    print(f"Paysite payments API on DynamoDB Local (gunicorn, {serving}), {results['payments_loaded']:,} payments")
    print(f"{'figure':<62} {'n':>5} {'median ms':>10} {'p99 ms':>9}")
    print("-" * 90)
    for figure in results["figures"]:
        print(f"{figure['name']:<62} {figure['n']:>5} {figure['median_ms']:>10.2f} {figure['p99_ms']:>9.2f}")
    api = results["figures"][1]
    print(
        f"{'API / raw ratio (median, p99)':<62} {'':>5} {api['ratio_to_raw_median']:>10.2f} {api['ratio_to_raw_p99']:>9.2f}"
    )
    listing = results["figures"][4]
    print(
        f"{'list page: API / raw Query of the same page (median; goal at most 2x)':<62} {'':>5} {listing['ratio_to_raw_median']:>10.2f}"
    )
    creates = {name: len(figure["dynamodb_calls"]) for name, figure in results["capacity"].items()}
    print(
        f"DynamoDB calls: create {creates.get('create (capture: false)')}, replay {creates.get('replay')}, the "
        "last of each the request log sent after the answer (goals: at most 3 and 2 waited for); listed below"
    )
    concurrency.print_rows(results["concurrency"])
    export = results["export"]
    print(
        f"\nexport: {export['rows']:,} rows in {export['seconds']} s = {export['rows_per_second']:,} rows/s; "
        f"first byte {export['first_byte_ms']} ms; serving worker RSS {export['worker_rss_before_kib']:,} KiB before, "
        f"peak {export['worker_peak_rss_kib']:,} KiB after (peak before: {export['worker_peak_rss_before_kib']:,} KiB)"
    )
    print(
        f"load: {results['load']['payments']:,} payments by {results['load']['method']} in {results['load']['seconds']} s"
    )
    print(f"\n{'capacity per API request (ReturnConsumedCapacity=TOTAL)':<62} {'units':>7}  calls")
    for name, figure in results["capacity"].items():
        calls = ", ".join(figure["dynamodb_calls"])
        print(f"{name:<62} {figure['capacity_units']:>7.1f}  {calls}")
    print(f"\nwritten: {OUT / 'payments_api.json'}")


if __name__ == "__main__":
    main()
