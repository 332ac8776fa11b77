"""A database made before the wave-2 restructure still runs: the membership that lived in the
`paysite` app is the same row in the `merchants` app, and a webhook delivery queued under the task's old
path runs under the new one."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("paysite", "0001_initial"), ("django_tasks_database", "0021_conditional_partial_index_ordering")]
LATEST = [
    ("merchants", "0001_initial"),
    ("paysite", "0002_membership_moved_to_merchants"),
    ("webhooks", "0001_task_path_moved"),
]


@pytest.fixture
def database_before_the_move(transactional_db):
    executor = MigrationExecutor(connection)
    executor.migrate([("webhooks", None), ("merchants", None)])  # back to the state the old code left
    yield MigrationExecutor(connection).loader.project_state(BEFORE).apps
    call_command("migrate", verbosity=0)


def test_a_membership_and_a_queued_delivery_from_before_the_move_keep_working(database_before_the_move):
    old = database_before_the_move
    user = old.get_model("auth", "User").objects.create(username="from-before")
    old.get_model("paysite", "Membership").objects.create(
        user_id=user.pk, merchant_id="mer_01J000000000000000000000", role="admin"
    )
    old.get_model("django_tasks_database", "DBTaskResult").objects.create(
        task_path="payments.webhooks.webhook_deliver",
        args_kwargs={"args": ["mer_01J000000000000000000000", "evt_01J000000000000000000000", 0], "kwargs": {}},
        queue_name="default",
        backend_name="default",
        priority=0,
        status="READY",
        run_after=timezone.now(),
        exception_class_path="",
        traceback="",
    )

    MigrationExecutor(connection).migrate(LATEST)

    new = MigrationExecutor(connection).loader.project_state(LATEST).apps
    membership = new.get_model("merchants", "Membership").objects.get()
    assert (membership.user_id, membership.merchant_id, membership.role) == (
        user.pk,
        "mer_01J000000000000000000000",
        "admin",
    )
    queued = new.get_model("django_tasks_database", "DBTaskResult").objects.get()
    assert queued.task_path == "webhooks.tasks.webhook_deliver"
