from __future__ import annotations

from django.core.management.base import BaseCommand

from core.dynamodb_errors import storage_errors
from webhooks.selectors import webhook_delivery_list_for_merchant
from webhooks.tasks import webhook_deliveries_sweep


class Command(BaseCommand):
    help = (
        "Webhook deliveries: `webhooks sweep [--merchant MER_ID]` queues overdue attempts again (run it every few "
        "minutes); `webhooks list --merchant MER_ID` shows the latest events with their attempts."
    )

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sweep = sub.add_parser("sweep", help="queue overdue delivery attempts again")
        sweep.add_argument("--merchant", default=None, help="only this merchant (default: every merchant)")
        listing = sub.add_parser("list", help="latest webhook events of a merchant")
        listing.add_argument("--merchant", required=True)
        listing.add_argument("--limit", type=int, default=20)

    def handle(self, *args, action: str, **options) -> None:
        with storage_errors():
            if action == "sweep":
                count = webhook_deliveries_sweep(merchant_id=options["merchant"])
                self.stdout.write(f"{count} overdue delivery attempt(s) queued")
                return
            page = webhook_delivery_list_for_merchant(merchant_id=options["merchant"], limit=options["limit"])
            for delivery in page.items:
                last = delivery.attempts[-1] if delivery.attempts else None
                outcome = "-" if last is None else (last.error or str(last.status_code))
                self.stdout.write(
                    f"{delivery.event_id}  {delivery.event_type:<20}  {delivery.status:<9}  "
                    f"attempts={len(delivery.attempts)}  last={outcome}  {delivery.entity_id}"
                )
