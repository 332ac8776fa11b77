"""Two tiers over one suite.

- Every test runs inside moto's `mock_aws` with freshly created tables (fast, in process).
- Tests marked `@pytest.mark.engine` run a second time against DynamoDB Local, AWS's own engine,
  each with tables of their own. `make test` starts an in-memory DynamoDB Local and passes
  `DYNAMODB_TEST_ENDPOINT`; without it the suite starts one itself. Engine tests are never skipped:
  when no engine can be started they fail with the reason.
"""

from __future__ import annotations

import copy
import itertools
import os
from concurrent.futures import Future, ThreadPoolExecutor

import pytest
from django.core.cache import caches

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


class _EngineTableSets:
    """Empty tables for each engine test without waiting for them. Creating the ~20 tables takes one to
    two seconds of DynamoDB Local's time, and more as a long run goes on, so sets are reused: after a
    test its set is emptied (a keys-only Scan and BatchWriteItem deletes per table, the tables side by
    side) in a background thread while the next test runs on another set. Every
    test still starts on empty tables made exactly as `tables_create` makes them (same schema, billing
    mode, streams and TTL); a set that cannot be emptied (a test dropped a table) is deleted and a new
    one created in its place."""

    def __init__(self, endpoint: str) -> None:
        import boto3
        from pynamodb.connection import Connection

        from core import dynamodb

        region = os.environ["AWS_DEFAULT_REGION"]
        self._connection = Connection(host=endpoint, region=region)
        self._client = boto3.client("dynamodb", endpoint_url=endpoint, region_name=region)
        self._models = list(dynamodb.models())
        self._emptied: list[str] = []
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="engine-tables")
        self._emptiers = ThreadPoolExecutor(max_workers=6, thread_name_prefix="engine-tables-empty")
        self._next: Future[str] = self._worker.submit(self._prepare)

    @staticmethod
    def _new_prefix() -> str:
        return f"t{os.getpid()}-{next(_table_sets)}-"

    def _prepare(self) -> str:
        return self._emptied.pop() if self._emptied else self._create(self._new_prefix())

    def _create(self, prefix: str) -> str:
        for model in self._models:
            schema = model._get_schema()
            arguments = {key: value for key, value in schema.items() if value}
            if hasattr(model.Meta, "stream_view_type"):
                arguments["stream_specification"] = {
                    "stream_enabled": True,
                    "stream_view_type": model.Meta.stream_view_type,
                }
            name = prefix + model.Meta.base_name
            self._connection.create_table(name, billing_mode="PAY_PER_REQUEST", **arguments)
            ttl = model._ttl_attribute()
            if ttl is not None:
                self._connection.update_time_to_live(name, ttl.attr_name)
        return prefix

    def _empty_table(self, name: str, keys: list[str]) -> None:
        names = {f"#k{i}": key for i, key in enumerate(keys)}
        scan = {"TableName": name, "ProjectionExpression": ", ".join(names), "ExpressionAttributeNames": names}
        while True:
            page = self._client.scan(**scan)
            requests = [{"DeleteRequest": {"Key": item}} for item in page["Items"]]
            for start in range(0, len(requests), 25):
                pending = {name: requests[start : start + 25]}
                while pending:
                    pending = self._client.batch_write_item(RequestItems=pending).get("UnprocessedItems")
            if "LastEvaluatedKey" not in page:
                return
            scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _empty(self, prefix: str) -> None:
        tables = [
            (prefix + model.Meta.base_name, [key["AttributeName"] for key in model._get_schema()["key_schema"]])
            for model in self._models
        ]
        try:
            list(self._emptiers.map(lambda table: self._empty_table(*table), tables))
        except self._client.exceptions.ResourceNotFoundException:
            self._delete(prefix)
            return
        self._emptied.append(prefix)

    def _delete(self, prefix: str) -> None:
        start = None
        while True:
            page = self._connection.list_tables(exclusive_start_table_name=start)
            names = [name for name in page.get("TableNames", []) if name.startswith(prefix)]
            for name in names:
                self._connection.delete_table(name)
            start = page.get("LastEvaluatedTableName")
            if not start:
                return

    def take(self) -> str:
        """The prefix of a ready set of empty tables (a failure to make one fails the test that asked)."""
        ready, self._next = self._next, self._worker.submit(self._prepare)
        return ready.result()

    def drop(self, prefix: str) -> None:
        self._worker.submit(self._empty, prefix)

    def close(self, *, engine_thrown_away: bool) -> None:
        """Delete the sets, unless the engine goes with the run (in memory, stopped after it): then
        deleting them only delays the end."""
        if not engine_thrown_away:
            self._worker.submit(self._delete_all)
        self._worker.shutdown(wait=True, cancel_futures=engine_thrown_away)
        self._emptiers.shutdown(wait=True, cancel_futures=engine_thrown_away)

    def _delete_all(self) -> None:
        if self._next.exception() is None:
            self._emptied.append(self._next.result())
        for prefix in self._emptied:
            self._delete(prefix)


@pytest.fixture(scope="session")
def engine_tables(engine_endpoint):
    sets = _EngineTableSets(engine_endpoint)
    yield sets
    # `make test` names an in-memory engine it stops after the run; without a name the suite started one
    given = os.environ.get("DYNAMODB_TEST_ENDPOINT")
    sets.close(engine_thrown_away=not given or os.environ.get("DYNAMODB_TEST_ENGINE_IN_MEMORY") == "1")


_moto_empty_tables: dict[str, object] = {}


def _moto_tables_create() -> None:
    """Every moto test needs all ~20 tables, and CreateTable through moto costs ~25 ms each (half a
    second a test, minutes over the suite). The tables are created once, kept while empty, and each
    test gets deep copies of them: fresh empty tables with the same schema, TTL and streams."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    from core import tables

    backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][os.environ["AWS_DEFAULT_REGION"]]
    if not _moto_empty_tables:
        tables.tables_create()
        _moto_empty_tables.update(copy.deepcopy(backend.tables))
    else:
        backend.tables.update(copy.deepcopy(_moto_empty_tables))


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache (rate limits, cached table sizes...): the local-memory
    cache lives as long as the test process, and which tests share a process depends on the order."""
    for cache in caches.all():
        cache.clear()


@pytest.fixture(autouse=True)
def dynamo(request: pytest.FixtureRequest, dynamodb_backend: str):
    """Fresh tables for every test, in moto or in DynamoDB Local; none for `pure` tests."""
    if request.node.get_closest_marker("pure"):
        yield None
        return
    from core import dynamodb

    if dynamodb_backend == ENGINE:
        endpoint = request.getfixturevalue("engine_endpoint")
        table_sets = request.getfixturevalue("engine_tables")
        prefix = table_sets.take()
        dynamodb.reconfigure(endpoint=endpoint, prefix=prefix)
        try:
            yield ENGINE
        finally:
            dynamodb.reconfigure(endpoint=None, prefix="test-")
            table_sets.drop(prefix)
        return

    from moto import mock_aws

    with mock_aws():
        dynamodb.reconfigure(endpoint=None, prefix="test-")
        _moto_tables_create()
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
