"""The deploy tier: the SAM template and the Lambda package.

- `aws_calls` records every AWS call any botocore client makes, for checking a function's policy.
- `lambda_package` builds the zip once per test process (`scripts/lambda_build.py`, the downloads and
  the installed dependencies cached under var/lambda, one build at a time) and unzips it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.client import BaseClient

from tests.deploy.policies import AwsCalls

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def aws_calls(monkeypatch):
    recorder = AwsCalls()
    real = BaseClient._make_api_call

    def record(client, operation_name, api_params):
        recorder.calls.append((client.meta.service_model.service_name, operation_name, dict(api_params)))
        return real(client, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", record)
    return recorder


@pytest.fixture(scope="session")
def lambda_zip(tmp_path_factory) -> Iterator[Path]:
    output = tmp_path_factory.mktemp("lambda") / "paysite.zip"
    build = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "lambda_build.py"), "--output", str(output)],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    yield output
    output.unlink(missing_ok=True)  # 44 MB; see `lambda_package`


@pytest.fixture(scope="session")
def lambda_package(lambda_zip, tmp_path_factory) -> Iterator[Path]:
    """The zip unzipped, as Lambda lays it out in /var/task."""
    target = tmp_path_factory.mktemp("task")
    with zipfile.ZipFile(lambda_zip) as archive:
        archive.extractall(target)
    yield target
    # Removed at the end of the session: pytest keeps the temporary directories of the last 3 runs,
    # and with it 130 MB (and the zip) per run would stay in /tmp.
    shutil.rmtree(target, ignore_errors=True)
