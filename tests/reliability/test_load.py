"""The benchmarks' short forms: the load run (bench/load.py, 10 clients for 10 s: gunicorn on DynamoDB
Local, then its invariant check) and the recovery run (bench/recovery.py, 30 timed-out payments).
`make bench` runs the full forms (50 clients for 60 s; 1,000 payments)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.engine_only
def test_a_short_load_run_keeps_every_invariant(dynamodb_backend, engine_endpoint, tmp_path):
    report = tmp_path / "load.json"
    result = subprocess.run(
        [
            sys.executable,
            "-W",
            "ignore::UserWarning",
            "bench/load.py",
            "--clients",
            "10",
            "--seconds",
            "10",
            "--endpoint",
            engine_endpoint,
            "--json",
            str(report),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    figures = json.loads(report.read_text())
    assert figures["invariants"] == {
        "no_5xx": True,
        "creates_once": True,
        "replays_match": True,
        "refunds": True,
        "summary": True,
        "timeouts_resolved": True,
        "charged_once": True,
    }
    assert figures["violations"] == {} and figures["client_errors"] == []
    assert figures["creates_2xx"] > 0 and figures["replays_2xx"] > 0 and figures["refunds_2xx"] > 0
    assert figures["timeouts_resolved"] > 0
    for operation in ("create", "replay", "timeout", "refund", "list", "summary", "page_home", "page_payments"):
        statuses = figures["operations"][operation]["statuses"]
        assert statuses and all(200 <= int(status) < 500 for status in statuses), (operation, statuses)


@pytest.mark.engine_only
def test_the_recovery_benchmark_in_a_short_form_keeps_every_check(dynamodb_backend, tmp_path):
    report = tmp_path / "recovery.json"
    result = subprocess.run(
        [sys.executable, "-W", "ignore::UserWarning", "bench/recovery.py", "--payments", "30", "--json", str(report)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    figures = json.loads(report.read_text())
    assert figures["checks"] == dict.fromkeys(figures["checks"], True) and len(figures["checks"]) == 6
    assert figures["statuses"] == {"succeeded": 27, "failed": 3} and figures["resolved"] == 30
