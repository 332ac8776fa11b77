from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from core.models import TaskWorker
from core.workers import tasks_sweep


class Command(BaseCommand):
    help = (
        "Task workers: `tasks sweep` queues again the tasks of workers that stopped beating and re-arms the "
        "periodic chains (every `db_worker` does it on its own); `tasks workers` lists the heartbeats."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["sweep", "workers"])

    def handle(self, *args: Any, action: str, **options: Any) -> None:
        if action == "workers":
            now = timezone.now()
            for worker in TaskWorker.objects.order_by("started_at"):
                age = (now - worker.beat_at).total_seconds()
                self.stdout.write(f"{worker.worker_id}  {worker.host}:{worker.pid}  last beat {age:.0f} s ago")
            return
        report = tasks_sweep()
        for old, new in report.requeued:
            self.stdout.write(f"queued again: {old} as {new}")
        for path in report.rearmed:
            self.stdout.write(f"re-armed: {path}")
        if not report.requeued and not report.rearmed:
            self.stdout.write("nothing stalled, every periodic chain has its next run")
