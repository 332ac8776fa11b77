"""`audit seal` closes hours into signed, chained seals and anchors each chain's head outside the audit
tables (exit 1 when a partition's run was refused); `audit verify` re-checks them and exits 1 on any
finding; `audit schedule` queues the hourly sealing task for `manage.py db_worker`."""

from __future__ import annotations

from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_date, parse_datetime

from audit import integrity
from audit.selectors import audit_partition_list
from audit.services import audit_seal_run, audit_verify_run
from audit.tasks import audit_seal_schedule
from core.actor import CLI_ACTOR
from core.dynamodb_errors import storage_errors


def parse_time(value: str) -> datetime:
    """`now`, an RFC 3339 time (UTC when it has no offset) or a date (its midnight UTC)."""
    if value == "now":
        return datetime.now(UTC)
    parsed = parse_datetime(value)
    if parsed is None:
        day = parse_date(value)
        if day is None:
            raise CommandError(f"Not a time: {value!r}; use `now`, 2026-11-28T10:00:00Z or 2026-11-28.")
        parsed = datetime(day.year, day.month, day.day)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = (
        "Audit integrity: `audit seal [--merchant M] [--through T]` (default: the last closed hour; "
        "`--through now` seals everything so far; it refuses, and exits 1, where a chain no longer reaches its "
        "anchored head or events are older than AUDIT_SEAL_GRACE_HOURS); `audit verify [--merchant M] "
        "[--since T]` names every altered, deleted or inserted event, every gap in the seal chain, a chain "
        "that does not reach its anchored head or the last closed hour less the grace window, and exits 1 on any; "
        "`audit schedule` queues the hourly sealing task."
    )

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        seal = sub.add_parser("seal", help="seal closed periods")
        seal.add_argument("--merchant", default=None, help="one partition: a merchant id or `ops`")
        seal.add_argument("--through", default=None, help="`now`, a time or a date (default: the last closed hour)")
        verify = sub.add_parser("verify", help="re-check the seal chain and the sealed events")
        verify.add_argument("--merchant", default=None, help="one partition: a merchant id or `ops`")
        verify.add_argument("--since", default=None, help="only periods ending after this time")
        sub.add_parser("schedule", help="queue the hourly sealing task (run `manage.py db_worker`)")

    def handle(self, *args, action: str, **options) -> None:
        with storage_errors():
            if action == "seal":
                self._seal(options["merchant"], options["through"])
            elif action == "verify":
                self._verify(options["merchant"], options["since"])
            else:
                when = audit_seal_schedule()
                self.stdout.write(
                    f"sealing task queued for {when:%Y-%m-%d %H:%M} UTC" if when else "sealing task already queued"
                )

    def _partitions(self, merchant: str | None) -> list[str]:
        return [merchant] if merchant else audit_partition_list()

    def _seal(self, merchant: str | None, through: str | None) -> None:
        moment = parse_time(through) if through else integrity.last_closed_hour()
        runs = audit_seal_run(partitions=self._partitions(merchant), through=moment, actor=CLI_ACTOR)
        for run in runs:
            note = f" ({run.note})" if run.note else ""
            self.stdout.write(
                f"{run.partition}: {run.seals} seals, {run.events} events, sealed through {run.sealed_through or '-'}{note}"
            )
        refused = [run.partition for run in runs if run.refused]
        if refused:
            raise CommandError(f"audit seal: refused for {len(refused)} partitions ({', '.join(refused)}); see above.")

    def _verify(self, merchant: str | None, since: str | None) -> None:
        result = audit_verify_run(
            partitions=self._partitions(merchant), since=parse_time(since) if since else None, actor=CLI_ACTOR
        )
        for finding in result.findings:
            self.stdout.write(finding.line())
        summary = (
            f"{len(result.partitions)} partitions ({result.anchored} anchored), {result.seals} seals, "
            f"{result.events} events checked, "
            f"{result.expired} expired by retention, {result.unsealed} not sealed yet"
        )
        if result.findings:
            raise CommandError(f"audit verify: {len(result.findings)} findings ({summary}).")
        self.stdout.write(f"audit verify: the chain verifies ({summary}).")
