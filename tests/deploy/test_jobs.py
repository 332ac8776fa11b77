"""The Lambda jobs (`paysite/lambda_handlers/jobs.py`): the worker run by the minute's schedule, and
the deployment steps."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from core.models import TaskWorker
from paysite.lambda_handlers import jobs
from tests.factories import make_merchant
from webhooks.tasks import webhook_deliver


@pytest.fixture
def database_queue(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    # The test database is SQLite in memory, where a second thread's write fails instead of waiting:
    # the heartbeat thread stays quiet during these short runs (its first beat is on the caller's thread).
    settings.TASKS_HEARTBEAT_SECONDS = 3600


@pytest.mark.django_db(transaction=True)
def test_the_worker_runs_the_due_tasks_and_leaves_no_heartbeat_behind(database_queue):
    merchant = make_merchant()
    queued = webhook_deliver.enqueue(merchant.merchant_id, "evt_gone", 0)

    answer = jobs.tasks({"batch": True}, None)

    assert DBTaskResult.objects.get(id=queued.id).status == "SUCCESSFUL"
    assert answer["worker_id"].startswith("lambda-") and answer["requeued"] == 0
    assert not TaskWorker.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_worker_first_queues_again_the_task_of_an_invocation_that_timed_out(database_queue):
    merchant = make_merchant()
    stalled = webhook_deliver.enqueue(merchant.merchant_id, "evt_gone", 0)
    DBTaskResult.objects.filter(id=stalled.id).update(
        status="RUNNING", started_at=timezone.now() - timedelta(minutes=20), worker_ids=["lambda-timed-out"]
    )

    answer = jobs.tasks({"batch": True}, None)

    assert answer["requeued"] == 1
    assert DBTaskResult.objects.get(id=stalled.id).status == "FAILED"
    again = DBTaskResult.objects.exclude(id=stalled.id).get()
    assert again.task_path == "webhooks.tasks.webhook_deliver" and again.status == "SUCCESSFUL"


@pytest.mark.django_db(transaction=True)
def test_the_worker_takes_no_task_after_its_time(database_queue):
    merchant = make_merchant()
    queued = webhook_deliver.enqueue(merchant.merchant_id, "evt_gone", 0)

    jobs.tasks({"seconds": 0}, None)

    assert DBTaskResult.objects.get(id=queued.id).status == "READY"


@pytest.mark.pure
def test_manage_refuses_any_other_command():
    with pytest.raises(ValueError, match="manage runs one of"):
        jobs.manage({"command": ["flush", "--noinput"]}, None)
