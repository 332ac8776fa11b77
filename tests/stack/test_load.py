"""A load run over both nodes (the mix of `bench/load.py`) during which one node is killed."""

from __future__ import annotations

import itertools
import json
import random
import threading
import time

import pytest
import requests

from tests.stack.helpers import wait_for

pytestmark = pytest.mark.stack

CLIENTS = 10
SECONDS = 20.0
KILL_AFTER = 7.0
LOCK_WAIT = 90  # a create cut short by the kill holds its key for IDEMPOTENCY_LOCK_SECONDS (60)


FAIL_TIMEOUT = 10.0  # a node that failed is left out this long (nginx's `fail_timeout` default)


class Balancer:
    """What a load balancer in front of the nodes does: round robin over the nodes not marked down;
    a request the node does not answer (refused, reset) marks it down for `FAIL_TIMEOUT` and goes to
    the other node, a POST too, as each carries its Idempotency-Key. A 409 `idempotency_key_in_use`
    (the first try died with its node) is asked again when it says."""

    def __init__(self, nodes: list[str], session: requests.Session, shared: dict) -> None:
        self.nodes, self.session = nodes, session
        # What every client's balancer shares, as one balancer would: when each node is up again, the
        # (time, node, status) of every answer, and the lock over both.
        self.down_until, self.timeline, self.lock = shared["down_until"], shared["timeline"], shared["lock"]
        self.turns = itertools.count(random.randrange(2))
        self.failovers = 0

    def _next(self, turn: int) -> str:
        up = [node for node in self.nodes if self.down_until.get(node, 0) <= time.monotonic()] or self.nodes
        return up[turn % len(up)]

    def send(self, method: str, path: str, **kwargs) -> requests.Response:
        turn = next(self.turns)
        deadline = time.monotonic() + LOCK_WAIT
        while True:
            node = self._next(turn)
            try:
                response = self.session.request(method, f"{node}{path}", timeout=30, **kwargs)
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError):
                if time.monotonic() > deadline:
                    raise
                self.down_until[node] = time.monotonic() + FAIL_TIMEOUT
                self.failovers += 1
                turn += 1
                time.sleep(0.1)
                continue
            with self.lock:
                self.timeline.append((time.monotonic(), node, response.status_code))
            in_use = response.status_code == 409 and '"idempotency_key_in_use"' in response.text
            if in_use and time.monotonic() < deadline:
                time.sleep(float(response.headers.get("Retry-After") or 1))
                continue
            return response


def client_loop(number, balancers, merchant, stop_at, record) -> None:
    """`bench/load.py`'s client, its requests sent through the balancer."""
    from bench.load import CARD, MIX, TIMEOUT_CARD

    api, pages = balancers
    rng = random.Random(number)
    mine, paid, sequence = [], [], 0
    operations, weights = list(MIX), list(MIX.values())
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
                    key, body = (
                        f"c{number}-{sequence}",
                        {"amount": rng.randint(500, 20000), "currency": "usd", "card": CARD},
                    )
                else:
                    key, body = rng.choice(mine)
                response = api.send("POST", "/api/v1/payments", json=body, headers={"Idempotency-Key": key})
                if response.status_code == 201:
                    with record.lock:
                        if operation == "create":
                            record.creates[(merchant.merchant_id, key)] = response.json()
                        else:
                            record.replays.append((merchant.merchant_id, key, response.json()))
                    if operation == "create":
                        mine.append((key, body))
                        paid.append(response.json()["id"])
            elif operation == "timeout":
                sequence += 1
                key = f"t{number}-{sequence}"
                body = {"amount": rng.randint(500, 20000), "currency": "usd", "card": TIMEOUT_CARD}
                first = api.send("POST", "/api/v1/payments", json=body, headers={"Idempotency-Key": key})
                if first.status_code == 201:  # the first try died with its node; its retry got the outcome
                    named, resolved, response = first.json()["id"], first.json(), first
                else:
                    named = first.json().get("payment_id") if first.status_code == 504 else None
                    response = api.send("POST", "/api/v1/payments", json=body, headers={"Idempotency-Key": key})
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
                response = api.send(
                    "POST",
                    f"/api/v1/payments/{payment_id}/refunds",
                    json={"amount": 100},
                    headers={"Idempotency-Key": f"r{number}-{sequence}"},
                )
                if response.status_code == 201:
                    with record.lock:
                        record.refunds[payment_id] += 100
            elif operation == "list":
                response = api.send("GET", "/api/v1/payments", params={"limit": 20})
            elif operation == "summary":
                response = api.send("GET", "/api/v1/payments/summary")
            elif operation == "page_home":
                response = pages.send("GET", "/")
            else:
                response = pages.send("GET", "/payments/")
            record.note(operation, time.monotonic() - started, response.status_code)
        except requests.RequestException as error:
            record.note(operation, time.monotonic() - started, 0)
            with record.lock:
                record.errors.append(f"{operation}: {type(error).__name__}")


def test_one_node_killed_during_a_load_run_loses_and_duplicates_nothing(stack):
    from bench.load import Record, _login, check_invariants, figures, prepare

    node_a, node_b = stack.nodes
    merchants = prepare("stack-load")
    record, timeline = Record(), []
    shared = {"down_until": {}, "timeline": timeline, "lock": threading.Lock()}
    balancers = []
    for number in range(CLIENTS):
        merchant = merchants[number % len(merchants)]
        api, pages = stack.session(merchant.secret), stack.session()
        _login(pages, node_a, merchant.username)
        balancers.append((Balancer(stack.nodes, api, shared), Balancer(stack.nodes, pages, shared)))

    started = time.monotonic()
    threads = [
        threading.Thread(
            target=client_loop,
            args=(n, balancers[n], merchants[n % len(merchants)], started + SECONDS, record),
            daemon=True,
        )
        for n in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    time.sleep(KILL_AFTER)
    killed_at = time.monotonic()
    old_pid = stack.kill("node-a")
    for thread in threads:
        thread.join(timeout=SECONDS + LOCK_WAIT + 60)
    elapsed = time.monotonic() - started
    assert not any(thread.is_alive() for thread in threads), "a client did not finish"

    violations = check_invariants(node_b, merchants, record)
    failovers = sum(api.failovers + pages.failovers for api, pages in balancers)
    served_by_b = [
        t for t, node, status in timeline if node == node_b and killed_at <= t <= killed_at + 5 and status < 300
    ]
    total = sum(len(values) for values in record.latencies.values())
    result = {
        "clients": CLIENTS,
        "seconds": round(elapsed, 1),
        "requests": total,
        "per_second": round(total / elapsed, 1),
        "creates_2xx": len(record.creates),
        "replays_2xx": len(record.replays),
        "refunds_2xx": sum(v // 100 for v in record.refunds.values()),
        "timeouts_resolved": sum(1 for _, named, resolved in record.timeouts if named and resolved),
        "killed_after_seconds": KILL_AFTER,
        "failovers": failovers,
        "node_b_2xx_in_5_s_after_the_kill": len(served_by_b),
        "operations": figures(record, elapsed),
        "violations": {name: found[:20] for name, found in violations.items() if found},
    }
    (stack.path.parent / "load.json").write_text(json.dumps(result, indent=2))

    assert result["violations"] == {}, result["violations"]
    assert failovers > 0  # the kill hit requests in flight or about to be sent
    assert served_by_b, "node B answered no 2xx in the 5 s after node A was killed"
    stack.wait_restarted("node-a", old_pid)
    wait_for(lambda: stack.serving(node_a), seconds=90, what="node A to serve again", every=0.5)
