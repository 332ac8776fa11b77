"""The concurrency section of `bench/run.py` (issue 15 point 5): creates through the API beside the
very same DynamoDB calls made raw (a create's every call, in its order: the key and merchant read,
the idempotency claim, the transaction, the request log), at 1, 8 and 32 clients, each level
repeated 3 times (the machine is shared; the median repetition is reported).

A client is a thread taking the next call from a shared list until none is left; the raw calls are
built before the clock starts, so both sides time only requests.
Throughput is calls over the wall time of the level; latency is each call's own time.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable

LEVELS = (1, 8, 32)
REPETITIONS = 3


def run_clients(clients: int, calls: list[Callable[[], None]]) -> tuple[float, list[float]]:
    """Run `calls` from `clients` threads; returns the wall seconds and every call's seconds."""
    lock = threading.Lock()
    pending = list(reversed(calls))
    latencies: list[float] = []
    failures: list[BaseException] = []

    def client() -> None:
        while True:
            with lock:
                if not pending or failures:
                    return
                call = pending.pop()
            started = time.perf_counter()
            try:
                call()
            except BaseException as error:  # reported after the level, not lost in a thread
                with lock:
                    failures.append(error)
                return
            with lock:
                latencies.append(time.perf_counter() - started)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    if failures:
        raise failures[0]
    return wall, latencies


def level_figures(wall: float, latencies: list[float]) -> dict:
    return {
        "calls": len(latencies),
        "per_second": round(len(latencies) / wall, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
    }


def compare(
    api_calls: Callable[[int], list[Callable[[], None]]],
    raw_calls: Callable[[int], list[Callable[[], None]]],
    per_level: int,
    say: Callable[[str], None],
) -> list[dict]:
    """For each level: `per_level` API calls and as many raw ones, `REPETITIONS` times, taking turns;
    the repetition with the median API throughput is kept, with its raw twin."""
    rows = []
    for clients in LEVELS:
        runs = []
        for repetition in range(REPETITIONS):
            say(f"concurrency: {clients} client(s), repetition {repetition + 1} of {REPETITIONS}")
            api = level_figures(*run_clients(clients, api_calls(per_level)))
            raw = level_figures(*run_clients(clients, raw_calls(per_level)))
            runs.append((api, raw))
        runs.sort(key=lambda pair: pair[0]["per_second"])
        api, raw = runs[len(runs) // 2]
        rows.append(
            {
                "clients": clients,
                "api": api,
                "raw": raw,
                "throughput_ratio": round(api["per_second"] / raw["per_second"], 2),
                "p50_ratio": round(api["p50_ms"] / raw["p50_ms"], 2),
                "repetitions": [{"api": a, "raw": r} for a, r in runs],
            }
        )
    return rows


def print_rows(rows: list[dict]) -> None:
    print("\nconcurrency: POST /payments vs the same DynamoDB calls raw (median of 3 repetitions)")
    print(
        f"{'clients':>7}  {'API /s':>8}  {'raw /s':>8}  {'ratio':>6}  {'API p50 ms':>10}  {'raw p50 ms':>10}  {'ratio':>6}"
    )
    for row in rows:
        api, raw = row["api"], row["raw"]
        print(
            f"{row['clients']:>7}  {api['per_second']:>8.1f}  {raw['per_second']:>8.1f}  {row['throughput_ratio']:>6.2f}"
            f"  {api['p50_ms']:>10.2f}  {raw['p50_ms']:>10.2f}  {row['p50_ratio']:>6.2f}"
        )
    print("goal at 32 clients: API throughput at least 0.85x raw, API p50 at most 1.2x raw")
