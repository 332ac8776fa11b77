#!/usr/bin/env python
"""Schemathesis against the live API: every operation of /api/v1/openapi.json, with a merchant's key.

    python bench/fuzz.py [--max-examples 15] [--endpoint URL] [--report PATH]

Serves Paysite as `bench/load.py` does (gunicorn, 2 workers, DynamoDB Local, loopback only), then runs
`st run` with the checks `not_a_server_error` (no 5xx) and `response_schema_conformance` (every
answer matches its declared schema), a bounded number of examples per operation and a timeout per
request, and exits with its status. `tests/reliability/test_schemathesis.py` runs it in `make test`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load import say, served  # noqa: E402

CHECKS = "not_a_server_error,response_schema_conformance"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-examples", type=int, default=15)
    parser.add_argument("--endpoint", help="a running DynamoDB Local (default: start one in memory)")
    parser.add_argument("--report", type=Path, default=ROOT / "var" / "bench" / "schemathesis.xml")
    args = parser.parse_args()
    args.report.parent.mkdir(parents=True, exist_ok=True)

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
        return subprocess.run(command, cwd=ROOT, timeout=1200).returncode  # noqa: S603 (fixed arguments)


if __name__ == "__main__":
    sys.exit(main())
