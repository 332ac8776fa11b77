"""Schemathesis (bench/fuzz.py) against the live API on gunicorn and DynamoDB Local: every operation of
the OpenAPI document with a merchant's key, bounded examples; no 5xx and every response matching its
declared schema."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from paysite.api import api

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.engine_only
def test_schemathesis_finds_no_server_error_and_no_schema_mismatch(dynamodb_backend, engine_endpoint, tmp_path):
    report = tmp_path / "schemathesis.xml"
    result = subprocess.run(
        [
            sys.executable,
            "-W",
            "ignore::UserWarning",
            "bench/fuzz.py",
            "--max-examples",
            "10",
            "--endpoint",
            engine_endpoint,
            "--report",
            str(report),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    suites = ET.parse(report).getroot()
    cases = suites.findall(".//testcase")
    operations = [op for methods in api.get_openapi_schema()["paths"].values() for op in methods]
    assert len(cases) == len(operations) > 30  # every operation of the OpenAPI document
    assert not suites.findall(".//failure") and not suites.findall(".//error")
