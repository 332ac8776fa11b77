"""Periodic jobs on django-tasks, which has no scheduler of its own: a job queues its own next run,
and `schedule_once` queues the first unless a run of that task is already waiting."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def schedule_once(task: Any, *, run_after: datetime, **kwargs: Any) -> bool:
    """Queue `task` to run at `run_after` unless a run of it is already waiting; whether it queued.
    Where the backend cannot defer (the tests' immediate backend), nothing is queued."""
    if not task.get_backend().supports_defer:
        return False
    try:
        from django_tasks_db.models import DBTaskResult

        waiting = DBTaskResult.objects.filter(task_path=task.module_path, status="READY").exists()
    except Exception:  # noqa: BLE001 - another backend: nothing to look at
        waiting = False
    if waiting:
        return False
    task.using(run_after=run_after).enqueue(**kwargs)
    return True
