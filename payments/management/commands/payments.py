from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from core.actor import CLI_ACTOR
from core.dynamodb_errors import storage_errors
from merchants.errors import MerchantNotFound
from merchants.selectors import merchant_get
from payments import services
from payments.imports import ImportInvalid
from payments.models import Payment
from payments.services.imports import ImportResult, payment_import
from payments.tasks import payment_recover_sweep_schedule


class Command(BaseCommand):
    help = (
        "Payments: `payments recover [--merchant MER_ID]` resolves payments a processor timeout left `processing` "
        "by asking the processor what it decided (it never charges again), and completes the waiting idempotency "
        "records. Run it every few minutes; it exits with status 1 while some payments are still processing. "
        "`payments schedule` queues the worker's sweep that does the same every five minutes. "
        "`payments import FILE --merchant MER_ID` imports a CSV of historical payments from another processor "
        "(all rows checked first: one bad row and nothing is written; resumable; the same file twice is one import)."
    )

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        recover = sub.add_parser("recover", help="resolve `processing` payments with the processor")
        recover.add_argument("--merchant", default=None, help="only this merchant (default: every merchant)")
        sub.add_parser("schedule", help="queue the recovery sweep for `manage.py db_worker` (every five minutes)")
        imports = sub.add_parser("import", help="import a CSV file of historical payments from another processor")
        imports.add_argument("file", help="the CSV file (header row: id, created, amount, currency, status, ...)")
        imports.add_argument("--merchant", required=True, help="the merchant the payments belong to (mer_...)")
        imports.add_argument("--quiet", action="store_true", help="no progress bar")

    def handle(self, *args, action: str, **options) -> None:
        if action == "import":
            self._import(Path(options["file"]), merchant_id=options["merchant"], quiet=options["quiet"])
            return
        if action == "schedule":
            when = payment_recover_sweep_schedule()
            self.stdout.write(
                f"recovery sweep queued for {when:%Y-%m-%d %H:%M} UTC" if when else "recovery sweep already queued"
            )
            return
        merchant_id = options["merchant"]
        with storage_errors():
            if merchant_id is not None:
                try:  # a typo is an error, not "nothing to do"
                    merchant_get(merchant_id=merchant_id)
                except MerchantNotFound as error:
                    raise CommandError(error.detail) from error
            report = services.payment_recover_all(
                merchant_ids=None if merchant_id is None else [merchant_id], on_payment=self._line
            )
        if report.checked == 0:
            self.stdout.write("No payments are processing.")
            return
        resolved = ", ".join(f"{count} {status}" for status, count in sorted(report.resolved.items())) or "none"
        self.stdout.write(
            f"Checked {report.checked} processing payment(s): resolved {report.resolved_total} ({resolved}); "
            f"{len(report.still_processing)} still processing."
        )
        if report.still_processing:
            raise CommandError(
                f"{len(report.still_processing)} payment(s) are still processing: the processor could not answer. "
                "Run `payments recover` again later."
            )

    def _line(self, payment: Payment, status: str) -> None:
        self.stdout.write(f"{payment.payment_id}  {payment.merchant_id}  processing -> {status}")

    def _import(self, path: Path, *, merchant_id: str, quiet: bool) -> None:
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}.") from error
        stream = self.stderr._out
        bar = tqdm(total=0, unit="row", desc=f"Importing {path.name}", disable=quiet, file=stream)

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        with storage_errors():
            try:
                merchant_get(merchant_id=merchant_id)
            except MerchantNotFound as error:
                raise CommandError(error.detail) from error
            try:
                result = payment_import(
                    merchant_id=merchant_id, actor=CLI_ACTOR, data=data, filename=path.name, on_progress=progress
                )
            except ImportInvalid as error:
                bar.close()
                for problem in error.errors:
                    self.stderr.write(f"{path.name}: {problem}")
                raise CommandError(error.detail) from error
        bar.close()
        self.stdout.write(self._import_summary(result))

    def _import_summary(self, result: ImportResult) -> str:
        record = result.record
        counts = f"{int(record.imported):,} payment(s) imported, {int(record.skipped):,} already there"
        if result.already:
            return f"This file ({record.sha256[:12]}…) was imported before, on {record.completed:%Y-%m-%d %H:%M} UTC: {counts}."
        resumed = " (resumed where an earlier run stopped)" if result.resumed else ""
        return f"Imported {record.filename}{resumed}: {int(record.rows_total):,} row(s), {counts}."
