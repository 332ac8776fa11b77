"""Two tiers over one suite.

- Every test runs inside moto's `mock_aws` with freshly created tables (fast, in process).
- Tests marked `@pytest.mark.engine` run a second time against DynamoDB Local, AWS's own engine,
  each with tables of their own. `make test` starts an in-memory DynamoDB Local and passes
  `DYNAMODB_TEST_ENDPOINT`; without it the suite starts one itself. Engine tests are never skipped:
  when no engine can be started they fail with the reason.
"""

from __future__ import annotations

import itertools
import os

import pytest

os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SECURITY_TOKEN="testing",
    AWS_SESSION_TOKEN="testing",
    AWS_DEFAULT_REGION="us-east-1",
)

ENGINE = "dynamodb-local"
_engine_outcomes: dict[str, int] = {"passed": 0, "failed": 0, "skipped": 0}
_table_sets = itertools.count()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "dynamodb_backend" not in metafunc.fixturenames:
        return
    if metafunc.definition.get_closest_marker("browser"):
        metafunc.parametrize("dynamodb_backend", [ENGINE])  # a live server in a thread: the real engine
    elif metafunc.definition.get_closest_marker("engine_only"):
        metafunc.parametrize("dynamodb_backend", [ENGINE])  # threads racing: moto is not thread-safe
    elif metafunc.definition.get_closest_marker("engine"):
        metafunc.parametrize("dynamodb_backend", ["moto", ENGINE])


@pytest.fixture
def dynamodb_backend() -> str:
    return "moto"


@pytest.fixture(scope="session")
def engine_endpoint():
    """The DynamoDB Local endpoint of the engine tier (started here when `make test` did not)."""
    from core import dynamodb_local

    given = os.environ.get("DYNAMODB_TEST_ENDPOINT")
    if given:
        yield given
        return
    try:
        engine = dynamodb_local.start(port=dynamodb_local.free_port(), db_path=None)
    except dynamodb_local.LocalEngineError as error:
        pytest.fail(f"The engine tier needs DynamoDB Local: {error}")
    yield engine.endpoint
    engine.stop()


@pytest.fixture(autouse=True)
def dynamo(request: pytest.FixtureRequest, dynamodb_backend: str):
    """Fresh tables for every test, in moto or in DynamoDB Local."""
    from core import dynamodb, tables

    if dynamodb_backend == ENGINE:
        endpoint = request.getfixturevalue("engine_endpoint")
        dynamodb.reconfigure(endpoint=endpoint, prefix=f"t{os.getpid()}-{next(_table_sets)}-")
        tables.tables_create()
        try:
            yield ENGINE
        finally:
            tables.tables_delete()
            dynamodb.reconfigure(endpoint=None, prefix="test-")
        return

    from moto import mock_aws

    with mock_aws():
        dynamodb.reconfigure(endpoint=None, prefix="test-")
        tables.tables_create()
        yield "moto"


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if f"[{ENGINE}" not in report.nodeid:
        return
    if report.skipped:
        _engine_outcomes["skipped"] += 1
    elif report.failed:
        _engine_outcomes["failed"] += 1
    elif report.when == "call":
        _engine_outcomes["passed"] += 1


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    endpoint = os.environ.get("DYNAMODB_TEST_ENDPOINT", "a DynamoDB Local started by the suite")
    terminalreporter.section("engine tier")
    counts = ", ".join(f"{n} {outcome}" for outcome, n in _engine_outcomes.items())
    terminalreporter.write_line(f"Engine tier against DynamoDB Local ({endpoint}): {counts}.")
