"""The task worker, the periodic jobs and the deployment steps on AWS Lambda.

- `tasks`: the django-tasks worker, `db_worker`'s own loop, run for at most `TASKS_TAKE_SECONDS`
  per invocation; a schedule invokes it every minute, so a queued task starts within a minute. Like
  `db_worker` it beats while it runs (`core.workers`), and each run first queues again the tasks of
  a worker that stopped beating (an invocation that reached its timeout). It does not re-arm the
  periodic chains as `db_worker` does: on Lambda the schedules below are the periodic jobs.
- `seal`, `recover`, `dispute_sweep`, `authorization_expiry`, `webhook_sweep`: the hourly sealing, the
  sweep of `processing` payments, the disputes sweep, the expiry of week-old authorizations and the
  webhook sweep, once per scheduled invocation. Under `db_worker` the first four queue their own next
  run; here the schedule does, so they do not.
- `compliance_report`: the hourly compliance report (`compliance.tasks`), stored for the ops page.
- `manage`: the deployment steps (`migrate`, `check`, the first ops user), run inside the VPC.
"""

from __future__ import annotations

import io
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import django
from django.apps import apps

if not apps.ready:  # in a Lambda this module is the entry point: settings and apps first
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paysite.settings")
    django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import close_old_connections, connection  # noqa: E402
from django.utils.timezone import now as django_now  # noqa: E402
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS  # noqa: E402
from django_tasks_db.management.commands.db_worker import Worker  # noqa: E402

from audit.tasks import audit_seal_task  # noqa: E402
from compliance.tasks import compliance_report_scheduled  # noqa: E402
from core.workers import heartbeat_seconds, tasks_stalled_requeue, worker_beat, worker_forget  # noqa: E402
from disputes.tasks import disputes_sweep_task  # noqa: E402
from payments.tasks import authorization_expiry_sweep_task, payment_recover_sweep_task  # noqa: E402
from webhooks.tasks import webhook_deliveries_sweep  # noqa: E402

logger = logging.getLogger(__name__)

TASKS_TAKE_SECONDS = 50.0  # no new task after this; the schedule invokes the worker every minute
TASKS_POLL_SECONDS = 1.0
TASKS_MARGIN_SECONDS = 5.0  # never start a task this close to the function's own timeout


class _TimeBoxedWorker(Worker):
    """`db_worker`'s loop (claim, run, record, poll), which stops taking tasks at `deadline`; a task
    that has started runs to its end within the function's timeout."""

    def __init__(self, *, deadline: float, **options: Any) -> None:
        self.deadline = deadline
        self.stopped = False
        super().__init__(**options)

    @property  # type: ignore[override]
    def running(self) -> bool:
        return not self.stopped and time.monotonic() < self.deadline

    @running.setter
    def running(self, value: bool) -> None:
        self.stopped = not value


class _Heartbeat(threading.Thread):
    """The worker's heartbeat while the invocation runs, so that no sweep takes its task for lost."""

    def __init__(self, worker_id: str) -> None:
        super().__init__(name=f"heartbeat-{worker_id}", daemon=True)
        self.worker_id = worker_id
        self.started_at = django_now()
        self.stopping = threading.Event()

    def start(self) -> None:
        # The first beat on the caller's thread, before the worker takes a task: the thread then beats
        # only while a task runs, never in the same instant as the worker's claim.
        worker_beat(worker_id=self.worker_id, started_at=self.started_at)
        super().start()

    def run(self) -> None:
        while not self.stopping.wait(heartbeat_seconds()):
            close_old_connections()
            try:
                worker_beat(worker_id=self.worker_id, started_at=self.started_at)
            except Exception:
                logger.exception("worker %s: heartbeat failed; trying again", self.worker_id)
        connection.close()

    def stop(self) -> None:
        self.stopping.set()
        self.join()
        worker_forget(worker_id=self.worker_id)


def _remaining_seconds(context: Any) -> float:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return remaining() / 1000 if remaining else float("inf")


def _job(run: Callable[[], Any]) -> Any:
    """Run a job as Django runs a request: drop database connections that expired while the
    function was frozen, before and after."""
    close_old_connections()
    try:
        return run()
    finally:
        close_old_connections()


def tasks(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Run due tasks from the database queue for up to `TASKS_TAKE_SECONDS` (`{"seconds": N}` for
    fewer; `{"batch": true}` returns as soon as none is due)."""
    started = time.monotonic()
    take = min(float(event.get("seconds", TASKS_TAKE_SECONDS)), _remaining_seconds(context) - TASKS_MARGIN_SECONDS)
    worker = _TimeBoxedWorker(
        deadline=started + take,
        queue_names=["*"],
        excluded_queue_names=[],
        interval=TASKS_POLL_SECONDS,
        batch=bool(event.get("batch", False)),
        backend_name=DEFAULT_TASK_BACKEND_ALIAS,
        startup_delay=False,
        max_tasks=None,
        worker_id=f"lambda-{getattr(context, 'aws_request_id', os.getpid())}"[:64],
    )
    requeued = _job(tasks_stalled_requeue)
    heartbeat = _Heartbeat(worker.worker_id)
    heartbeat.start()
    try:
        _job(worker.run)
    finally:
        heartbeat.stop()
    return {"worker_id": worker.worker_id, "requeued": len(requeued), "seconds": round(time.monotonic() - started, 3)}


def seal(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Seal every partition's closed hours (`audit seal`); invoked five minutes past each hour."""
    return {"seals": _job(lambda: audit_seal_task.call(reschedule=False))}


def recover(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Resolve every `processing` payment the processor can now answer for (`payments recover`)."""
    report: dict[str, Any] = _job(lambda: payment_recover_sweep_task.call(reschedule=False))
    return report


def authorization_expiry(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Void and cancel the authorizations left uncaptured for 7 days (every 15 minutes)."""
    report: dict[str, Any] = _job(lambda: authorization_expiry_sweep_task.call(reschedule=False))
    return report


def dispute_sweep(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Apply the processor's due dispute decisions and close disputes past their deadline (every minute)."""
    report: dict[str, Any] = _job(lambda: disputes_sweep_task.call(reschedule=False))
    return report


def webhook_sweep(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Queue again every webhook attempt overdue by more than the grace period (`webhooks sweep`)."""
    return {"enqueued": _job(webhook_deliveries_sweep)}


def compliance_report(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The scheduled compliance report, stored for the ops page (hourly); none when a run is active."""
    run = _job(compliance_report_scheduled)
    return {"run": run.pk if run else None, "status": run.status if run else "another run is active"}


# What `manage` runs: the deployment steps, never a command that deletes data or prints a secret.
MANAGE_COMMANDS = frozenset({"migrate", "showmigrations", "check", "createsuperuser"})


def manage(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """`{"command": ["migrate", "--noinput"]}`; the first ops user with
    `{"command": ["createsuperuser", "--noinput", "--username", "ops", "--email", "ops@example.com"],
    "password": "..."}` (the password is never logged or returned)."""
    command = [str(part) for part in event.get("command", [])]
    if not command or command[0] not in MANAGE_COMMANDS:
        raise ValueError(f"manage runs one of {sorted(MANAGE_COMMANDS)}, not {command[:1]}")
    password = event.get("password")
    if password:
        os.environ["DJANGO_SUPERUSER_PASSWORD"] = str(password)
    out = io.StringIO()
    try:
        _job(lambda: call_command(*command, stdout=out, stderr=out))
    finally:
        os.environ.pop("DJANGO_SUPERUSER_PASSWORD", None)
    logger.info("manage: %s", command[0])
    return {"command": command, "output": out.getvalue()}
