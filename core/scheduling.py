"""Periodic jobs on django-tasks, which has no scheduler of its own: a job queues its own next run,
and `schedule_once` queues the first unless a run of that task is already waiting.

`schedule_once` is safe to call from several processes at once (every worker re-arms the chains,
`core.workers`): on PostgreSQL the check and the insert hold an advisory lock named after the task;
SQLite's transactions begin IMMEDIATE (`paysite/settings.py`), one writer at a time. `TASKS_PERIODIC`
names each chain's schedule function; `periodic_ensure` calls them all, so a chain whose next run
was lost (its worker died mid-run) is queued again."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils.module_loading import import_string
from django_tasks_db.backend import DatabaseBackend


def _lock(name: str) -> None:
    """Until the end of the transaction, nobody else schedules `name` (PostgreSQL; see the module)."""
    if connection.vendor == "postgresql":
        key = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def schedule_once(task: Any, *, run_after: datetime, **kwargs: Any) -> bool:
    """Queue `task` to run at `run_after` unless a run of it is already waiting; whether it queued.
    Where the backend cannot defer (the tests' immediate backend), nothing is queued."""
    backend = task.get_backend()
    if not backend.supports_defer:
        return False
    if not isinstance(backend, DatabaseBackend):  # another backend: nothing to look at
        task.using(run_after=run_after).enqueue(**kwargs)
        return True
    from django_tasks_db.models import DBTaskResult

    with transaction.atomic():
        _lock(task.module_path)
        if DBTaskResult.objects.filter(task_path=task.module_path, status="READY").exists():
            return False
        task.using(run_after=run_after).enqueue(**kwargs)
    return True


def periodic_ensure() -> list[str]:
    """Call every schedule function of `TASKS_PERIODIC` (each queues its chain's next run unless one
    is waiting); the dotted paths of those that queued one."""
    return [path for path in getattr(settings, "TASKS_PERIODIC", []) if import_string(path)() is not None]
