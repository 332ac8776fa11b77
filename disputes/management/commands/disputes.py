from __future__ import annotations

from django.core.management.base import BaseCommand

from core.dynamodb_errors import storage_errors
from disputes import services
from disputes.tasks import disputes_sweep_schedule


class Command(BaseCommand):
    help = (
        "Disputes: `disputes sweep` applies the processor's due decisions (submitted evidence a minute old: "
        "`winning_evidence` wins, anything else loses) and closes disputes past `evidence_due_by` without "
        "submitted evidence as lost. `disputes schedule` queues the worker's sweep that does the same every minute."
    )

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("sweep", help="decide the disputes that are due, now")
        sub.add_parser("schedule", help="queue the disputes sweep for `manage.py db_worker` (every minute)")

    def handle(self, *args, action: str, **options) -> None:
        if action == "schedule":
            when = disputes_sweep_schedule()
            self.stdout.write(
                f"disputes sweep queued for {when:%Y-%m-%d %H:%M:%S} UTC" if when else "disputes sweep already queued"
            )
            return
        with storage_errors():
            report = services.disputes_sweep()
        self.stdout.write(
            f"Checked {report.checked} due dispute(s): {report.won} won, {report.lost} lost, {report.failed} failed."
        )
