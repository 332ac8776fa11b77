"""Task workers that die: heartbeats, and the sweep that queues their stalled tasks again.

django-tasks' database backend marks a task RUNNING when a worker claims it and never looks at it
again, so a worker killed mid-task (out of memory, SIGKILL, a lost machine) leaves the task RUNNING
for ever, and a self-rescheduling chain (the hourly seal, the recovery sweep) that was on it never
queues its next run. Every `manage.py db_worker` (core's, which extends django-tasks-db's) therefore
runs a `Liveness` thread beside its loop that

- writes the worker's heartbeat (`TaskWorker.beat_at`) every `TASKS_HEARTBEAT_SECONDS`;
- sweeps at start and then every `SWEEP_EVERY` beats (`tasks_sweep`): a RUNNING task whose worker has
  not beaten for `TASKS_STALE_SECONDS` (judged from the later of its last beat and the task's start)
  is marked FAILED with `WorkerLost` and queued again under a new id, once, however many workers
  sweep at the same moment (the row is locked and checked again); then every periodic chain named
  in `TASKS_PERIODIC` is re-armed (`core.scheduling.periodic_ensure`).

A task queued again runs again from its start, so every task must be safe to run twice. Paysite's
are: a settlement resumes from its last saved row, recovery and sealing write only what is missing,
and a webhook may be delivered twice (receivers ignore a repeated event id). `manage.py tasks sweep`
runs one sweep by hand; `manage.py tasks workers` lists the heartbeats."""

from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from core.models import TaskWorker
from core.scheduling import periodic_ensure

logger = logging.getLogger(__name__)

SWEEP_EVERY = 3  # beats between two sweeps of one worker
FORGET_AFTER = timedelta(days=1)  # heartbeat rows of workers gone this long are deleted


class WorkerLost(Exception):
    """The worker running a task stopped beating; the task was queued again under another id."""


@dataclass
class SweepReport:
    requeued: list[tuple[str, str]] = field(default_factory=list)  # (stalled task id, its new id)
    rearmed: list[str] = field(default_factory=list)  # schedule functions whose chain had no next run


def heartbeat_seconds() -> float:
    return float(getattr(settings, "TASKS_HEARTBEAT_SECONDS", 5))


def stale_after() -> timedelta:
    return timedelta(seconds=float(getattr(settings, "TASKS_STALE_SECONDS", 60)))


def worker_beat(*, worker_id: str, started_at: datetime) -> None:
    now = timezone.now()
    TaskWorker.objects.update_or_create(
        worker_id=worker_id,
        defaults={"beat_at": now, "host": socket.gethostname()[:255], "pid": os.getpid()},
        create_defaults={
            "beat_at": now,
            "host": socket.gethostname()[:255],
            "pid": os.getpid(),
            "started_at": started_at,
        },
    )


def worker_forget(*, worker_id: str) -> None:
    TaskWorker.objects.filter(worker_id=worker_id).delete()


def _last_sign_of_life(row: Any, beats: dict[str, datetime]) -> datetime:
    """The later of the task's start (its worker claimed it then) and its worker's last beat."""
    worker = row.worker_ids[-1] if row.worker_ids else None
    beat = beats.get(worker) if worker else None
    started: datetime = row.started_at
    return max(started, beat) if beat is not None else started


def _beats(worker_ids: set[str]) -> dict[str, datetime]:
    return dict(TaskWorker.objects.filter(worker_id__in=worker_ids).values_list("worker_id", "beat_at"))


def _requeue(task_id: Any, *, bound: datetime) -> str | None:
    """Fail the stalled task and queue it again, in one transaction; None when it finished meanwhile,
    another sweep has it, or its worker beat again."""
    from django_tasks_db.models import DBTaskResult

    with transaction.atomic():
        row = DBTaskResult.objects.select_for_update(skip_locked=True).filter(id=task_id, status="RUNNING").first()
        if row is None:
            return None
        worker = row.worker_ids[-1] if row.worker_ids else "?"
        last = _last_sign_of_life(row, _beats({worker}))
        if last >= bound:
            return None
        try:
            again = row.task.enqueue(*row.args_kwargs["args"], **row.args_kwargs["kwargs"])
        except ImportError:  # the task no longer exists: nothing to run again
            again = None
        note = f"worker {worker} stopped beating (last sign of life {last:%Y-%m-%d %H:%M:%S} UTC)"
        row.set_failed(WorkerLost(f"{note}; queued again as {again.id}" if again else f"{note}; not queued again"))
    logger.warning("task %s (%s): %s; queued again as %s", task_id, row.task_path, note, again and again.id)
    return str(again.id) if again else None


def tasks_stalled_requeue(*, now: datetime | None = None) -> list[tuple[str, str]]:
    """Queue again every RUNNING task whose worker stopped beating; (old id, new id) of each."""
    from django_tasks_db.models import DBTaskResult

    bound = (now or timezone.now()) - stale_after()
    candidates = list(DBTaskResult.objects.running().filter(started_at__lt=bound))
    beats = _beats({row.worker_ids[-1] for row in candidates if row.worker_ids})
    requeued = []
    for row in candidates:
        if _last_sign_of_life(row, beats) < bound:
            new_id = _requeue(row.id, bound=bound)
            if new_id is not None:
                requeued.append((str(row.id), new_id))
    TaskWorker.objects.filter(beat_at__lt=bound - FORGET_AFTER).delete()
    return requeued


def tasks_sweep() -> SweepReport:
    """Stalled tasks queued again, then the periodic chains re-armed."""
    return SweepReport(requeued=tasks_stalled_requeue(), rearmed=periodic_ensure())


class Liveness(threading.Thread):
    """Beside a worker's loop: beats, and sweeps every `SWEEP_EVERY` beats (see the module)."""

    def __init__(self, *, worker_id: str) -> None:
        super().__init__(name=f"liveness-{worker_id}", daemon=True)
        self.worker_id = worker_id
        self.started_at = timezone.now()
        self._stopping = threading.Event()

    def run(self) -> None:
        beats = 0
        while not self._stopping.is_set():
            close_old_connections()  # as the worker loop does: drop a broken or too old connection
            try:
                worker_beat(worker_id=self.worker_id, started_at=self.started_at)
                if beats % SWEEP_EVERY == 0:
                    report = tasks_sweep()
                    for path in report.rearmed:
                        logger.warning("periodic chain %s had no next run: queued it", path)
            except Exception:
                logger.exception("worker %s: heartbeat or sweep failed; trying again", self.worker_id)
            beats += 1
            self._stopping.wait(heartbeat_seconds())
        connection.close()

    def stop(self) -> None:
        self._stopping.set()
        self.join(timeout=heartbeat_seconds() + 10)
        try:
            worker_forget(worker_id=self.worker_id)
        except Exception:  # the database is gone: the row ages out
            logger.warning("worker %s: could not remove its heartbeat", self.worker_id)
        finally:
            connection.close()
