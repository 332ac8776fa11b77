"""Stalled work (core/workers.py) and the periodic chains (core/scheduling.py), on the database task
backend the workers use. `tests/stack/` kills real workers; these tests build the rows they leave."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from core.models import TaskWorker
from core.scheduling import periodic_ensure, schedule_once
from core.workers import tasks_stalled_requeue, worker_beat

pytestmark = [pytest.mark.pure, pytest.mark.django_db]


@task()
def noted(value: int) -> int:
    return value


def noted_schedule():
    """A chain's schedule function, as `TASKS_PERIODIC` names them."""
    when = timezone.now() + timedelta(minutes=5)
    return when if schedule_once(noted, run_after=when, value=1) else None


@pytest.fixture(autouse=True)
def database_backend(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.TASKS_STALE_SECONDS = 60
    settings.TASKS_PERIODIC = ["tests.core.test_workers.noted_schedule"]


def _beat(worker_id: str, seconds_ago: float) -> None:
    worker_beat(worker_id=worker_id, started_at=timezone.now() - timedelta(hours=1))
    TaskWorker.objects.filter(worker_id=worker_id).update(beat_at=timezone.now() - timedelta(seconds=seconds_ago))


def _running(worker_id: str, *, started_ago: float) -> DBTaskResult:
    row = DBTaskResult.objects.get(id=noted.enqueue(7).id)
    row.claim(worker_id)
    DBTaskResult.objects.filter(id=row.id).update(started_at=timezone.now() - timedelta(seconds=started_ago))
    return row


def test_a_task_whose_worker_stopped_beating_is_failed_and_queued_again_once():
    _beat("worker-gone", seconds_ago=90)
    lost = _running("worker-gone", started_ago=120)

    [(old_id, new_id)] = tasks_stalled_requeue()

    lost.refresh_from_db()
    again = DBTaskResult.objects.get(id=new_id)
    assert old_id == str(lost.id)
    assert lost.status == "FAILED" and lost.exception_class_path == "core.workers.WorkerLost"
    assert f"queued again as {new_id}" in lost.traceback
    assert (again.status, again.task_path, again.args_kwargs) == ("READY", lost.task_path, lost.args_kwargs)
    assert tasks_stalled_requeue() == []  # once


def test_a_task_of_a_worker_that_still_beats_is_left_alone_however_long_it_runs():
    _beat("worker-busy", seconds_ago=2)
    running = _running("worker-busy", started_ago=3600)

    assert tasks_stalled_requeue() == []
    running.refresh_from_db()
    assert running.status == "RUNNING"


def test_a_task_of_a_worker_that_never_beat_is_judged_from_when_it_started():
    recent = _running("worker-unknown", started_ago=5)
    old = _running("worker-unknown-too", started_ago=120)

    requeued = tasks_stalled_requeue()

    assert [old_id for old_id, _ in requeued] == [str(old.id)]
    recent.refresh_from_db()
    assert recent.status == "RUNNING"


def test_schedule_once_and_periodic_ensure_keep_one_next_run_per_chain():
    waiting = DBTaskResult.objects.filter(task_path=noted.module_path, status="READY")

    assert periodic_ensure() == ["tests.core.test_workers.noted_schedule"]
    assert periodic_ensure() == []
    assert noted_schedule() is None
    [queued] = waiting
    assert queued.args_kwargs == {"args": [], "kwargs": {"value": 1}}


def test_the_tasks_command_sweeps_and_lists_the_workers(capsys):
    _beat("worker-listed", seconds_ago=1)

    call_command("tasks", "sweep")
    call_command("tasks", "workers")

    out = capsys.readouterr().out
    assert "re-armed: tests.core.test_workers.noted_schedule" in out
    assert "worker-listed" in out
