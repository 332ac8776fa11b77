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

from tests.factories import make_merchant, make_user

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
    """Fresh tables for every test, in moto or in DynamoDB Local; none for `pure` tests."""
    if request.node.get_closest_marker("pure"):
        yield None
        return
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


# --- files and moto -------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def settlement_files(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "settlements": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "settlements"},
        },
    }
    return tmp_path / "settlements"


class _TablesNotCopied:
    """moto backs up a whole table once per item of every TransactWriteItems call (a deepcopy of
    every item and index, per item), which makes a 100-item transaction over a table of a few
    thousand payments take minutes. For the reconciliation tests moto keeps the tables instead of
    copying them: a cancelled transaction is then not rolled back in moto, which the settling code
    copes with anyway (it re-reads and settles one by one), and DynamoDB Local, in the engine tier,
    keeps the real all-or-nothing behaviour."""

    def __init__(self, real):
        self._real = real

    def deepcopy(self, value, memo=None):
        from moto.dynamodb.models.table import Table

        return value if isinstance(value, Table) else self._real.deepcopy(value, memo)

    def __getattr__(self, name):
        return getattr(self._real, name)


@pytest.fixture
def moto_without_rollback(request, monkeypatch, dynamodb_backend):
    """For the reconciliation tests (`pytestmark`): moto keeps its tables instead of copying them for
    every item of a transaction (see `_TablesNotCopied`)."""
    if dynamodb_backend != "moto" or request.node.get_closest_marker("pure"):
        return
    import copy

    import moto.dynamodb.models as models

    monkeypatch.setattr(models, "copy", _TablesNotCopied(copy))


# --- merchants and signed-in clients (pages) -------------------------------------------------


@pytest.fixture
def merchant():
    return make_merchant("Acme")


@pytest.fixture
def other():
    return make_merchant("Globex")


@pytest.fixture
def as_role(client, db, merchant):
    """`as_role("viewer")` signs a fresh user with that role at `merchant` in and returns the client."""

    def sign_in(role: str):
        client.force_login(make_user(merchant_id=merchant.merchant_id, role=role))
        return client

    return sign_in


@pytest.fixture
def staff_client(client, db):
    client.force_login(make_user("ops-staff", staff=True))
    return client


@pytest.fixture
def signed_in(client, db, merchant):
    """`signed_in("admin")` signs a fresh user with that role at `merchant` in; `signed_in(staff=True)` ops staff."""

    def sign_in(role: str | None = None, *, staff: bool = False, username: str | None = None):
        user = make_user(
            username, merchant_id=merchant.merchant_id if role else None, role=role or "viewer", staff=staff
        )
        client.force_login(user)
        return client

    return sign_in
