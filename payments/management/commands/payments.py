from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from core.dynamodb_errors import storage_errors
from merchants.errors import MerchantNotFound
from merchants.selectors import merchant_get
from payments import services
from payments.models import Payment
from payments.tasks import payment_recover_sweep_schedule


class Command(BaseCommand):
    help = (
        "Payments: `payments recover [--merchant MER_ID]` resolves payments a processor timeout left `processing` "
        "by asking the processor what it decided (it never charges again), and completes the waiting idempotency "
        "records. Run it every few minutes; it exits with status 1 while some payments are still processing. "
        "`payments schedule` queues the worker's sweep that does the same every five minutes."
    )

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        recover = sub.add_parser("recover", help="resolve `processing` payments with the processor")
        recover.add_argument("--merchant", default=None, help="only this merchant (default: every merchant)")
        sub.add_parser("schedule", help="queue the recovery sweep for `manage.py db_worker` (every five minutes)")

    def handle(self, *args, action: str, **options) -> None:
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
