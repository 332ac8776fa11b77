"""The stack tier: tests marked `stack` run against the production topology that `make stack-test`
starts (scripts/stack.py): two gunicorn nodes over HTTPS, two task workers, PostgreSQL, Redis,
DynamoDB Local and moto's S3. The script passes `PAYSITE_STACK` (its state file: addresses, process
ids) and the stack's environment, and runs pytest with `--ds paysite.settings`, so what a test does
in process (services, the ORM, boto3) reaches the same stack as the nodes.

Without `PAYSITE_STACK` (`make test`) these tests are deselected, never skipped: with it they run,
and `make stack-test` counts a run that collected none as a failure. One stack serves the whole
session; the tests share it, so each makes merchants of its own."""

from __future__ import annotations

import os

import pytest

STATE = os.environ.get("PAYSITE_STACK")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if STATE:
        return
    stack_items = [item for item in items if item.get_closest_marker("stack")]
    if stack_items:
        config.hook.pytest_deselected(items=stack_items)
        items[:] = [item for item in items if not item.get_closest_marker("stack")]


@pytest.fixture(autouse=True)
def dynamo():
    """The stack's DynamoDB Local, never moto (overrides the suite's autouse fixture)."""
    yield "stack"


@pytest.fixture(autouse=True)
def settlement_files():
    """The stack's S3 bucket (overrides the suite's fixture that points settlements at a directory)."""
    return None


@pytest.fixture(scope="session", autouse=True)
def stack_database(django_db_blocker):
    """The ORM reaches the stack's PostgreSQL database itself (no test database is made)."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture(scope="session")
def stack():
    from tests.stack.helpers import Stack

    if not STATE:
        pytest.fail("The stack tests need a running stack: run them with `make stack-test`.")
    stack = Stack.load(STATE)
    stack.wait_until_serving()
    return stack
