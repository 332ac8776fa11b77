#!/usr/bin/env python
"""Schemathesis against the live API: every operation of /api/v1/openapi.json, with a merchant's key;
then the corpus of hostile settlement files.

    python bench/fuzz.py [--max-examples 15] [--endpoint URL] [--report PATH] [--files-report PATH]

Serves Paysite as `bench/load.py` does (gunicorn as `bench/run.py` serves, DynamoDB Local, loopback only), then runs
`st run` with the checks `not_a_server_error` (no 5xx) and `response_schema_conformance` (every
answer matches its declared schema), a bounded number of examples per operation and a timeout per
request. Then it uploads every file of the hostile corpus (`tests/reliability/settlements.py`) with
another merchant's key, each of which must be refused with its own 422 `code` and leave nothing
stored, and the files exactly at each limit, which must be accepted; it prints how long every answer
took and writes them to `--files-report`. It exits 0 only when both parts pass.
`tests/reliability/test_schemathesis.py` runs it in `make test`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load import say, served  # noqa: E402

CHECKS = "not_a_server_error,response_schema_conformance"


def settlement_files(base: str, hostile_key: str, limits_key: str) -> tuple[list[dict], list[str]]:
    """Upload the hostile corpus and the files at the limits; (one result per file, what went wrong)."""
    import requests

    from tests.reliability.settlements import AT_THE_LIMITS, HOSTILE_FILES

    results, wrong = [], []
    session = requests.Session()
    for files, key, expected in ((HOSTILE_FILES, hostile_key, 422), (AT_THE_LIMITS, limits_key, 202)):
        for case in files:
            content = case.build()
            started = time.monotonic()
            response = session.post(
                f"{base}/api/v1/settlements",
                files={"file": (f"{case.name}.csv", content, "text/csv")},
                headers={"Authorization": f"Bearer {key}"},
                timeout=120,
            )
            elapsed_ms = round((time.monotonic() - started) * 1000)
            code = response.json().get("code") if response.status_code == 422 else None
            results.append(
                {
                    "file": case.name,
                    "bytes": len(content),
                    "status": response.status_code,
                    "code": code,
                    "ms": elapsed_ms,
                }
            )
            if (response.status_code, code) != (expected, case.code):
                wrong.append(f"{case.name}: {response.status_code} {code!r}, expected {expected} {case.code!r}")
    stored = session.get(f"{base}/api/v1/settlements", headers={"Authorization": f"Bearer {hostile_key}"}, timeout=30)
    if stored.status_code != 200 or stored.json()["data"]:
        wrong.append(f"the hostile files left settlements behind: {stored.status_code} {stored.text[:300]}")
    return results, wrong


def _table(results: list[dict]) -> str:
    rows = [f"{'file':<48} {'bytes':>10} {'status':>6} {'code':<20} {'ms':>7}"]
    rows += [f"{r['file']:<48} {r['bytes']:>10,} {r['status']:>6} {r['code'] or '':<20} {r['ms']:>7,}" for r in results]
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-examples", type=int, default=15)
    parser.add_argument("--endpoint", help="a running DynamoDB Local (default: start one in memory)")
    parser.add_argument("--report", type=Path, default=ROOT / "var" / "bench" / "schemathesis.xml")
    parser.add_argument("--files-report", type=Path, default=ROOT / "var" / "bench" / "settlement-files.json")
    args = parser.parse_args()
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.files_report.parent.mkdir(parents=True, exist_ok=True)

    with served(args.endpoint, name="fuzz") as (base, merchants):
        command = [
            str(Path(sys.executable).parent / "st"),
            "run",
            f"{base}/api/v1/openapi.json",
            "--header",
            f"Authorization: Bearer {merchants[0].secret}",
            "--checks",
            CHECKS,
            "--max-examples",
            str(args.max_examples),
            "--phases",
            "examples,coverage,fuzzing",
            "--generation-deterministic",
            "--request-timeout",
            "30",
            "--workers",
            "2",
            "--report",
            "junit",
            "--report-junit-path",
            str(args.report),
        ]
        say(f"schemathesis: {args.max_examples} examples per operation against {base}")
        status = subprocess.run(command, cwd=ROOT, timeout=1200).returncode  # noqa: S603 (fixed arguments)
        say("settlement files: the hostile corpus, then the files at the limits")
        results, wrong = settlement_files(base, merchants[1].secret, merchants[2].secret)
    print(_table(results), flush=True)
    args.files_report.write_text(json.dumps({"files": results, "wrong": wrong}, indent=2) + "\n")
    for line in wrong:
        say(f"WRONG {line}")
    return status or (1 if wrong else 0)


if __name__ == "__main__":
    sys.exit(main())
