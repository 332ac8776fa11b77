from __future__ import annotations

from django.core.management.base import BaseCommand

from core.actor import CLI_ACTOR
from merchants.selectors import merchant_get, merchant_id_list
from payments.balance import balance_get
from payments.services.balances import balance_from_ledger, balance_rebuild


class Command(BaseCommand):
    help = (
        "Balance: `balance rebuild [--merchant MER_ID]` recomputes the balance counters from the ledger and "
        "backfills the payments made before the balance existed (run it while the merchant is quiet); "
        "`balance check [--merchant MER_ID]` compares the counters with the ledger and exits with status 1 "
        "when they differ."
    )

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        for name, text in (("rebuild", "reset the counters to the ledger's figures"), ("check", "compare only")):
            action = sub.add_parser(name, help=text)
            action.add_argument("--merchant", default=None, help="only this merchant (default: every merchant)")

    def handle(self, *args, action: str, merchant: str | None = None, **options) -> None:
        merchants = [merchant_get(merchant_id=merchant).merchant_id] if merchant else merchant_id_list()
        differing = 0
        for merchant_id in merchants:
            if action == "rebuild":
                balances = balance_rebuild(merchant_id=merchant_id, actor=CLI_ACTOR)
                for b in balances:
                    self.stdout.write(f"{merchant_id} {b.currency}: pending {b.pending}, available {b.available}")
                continue
            counters, ledger = balance_get(merchant_id=merchant_id), balance_from_ledger(merchant_id=merchant_id)
            if counters != ledger:
                differing += 1
                self.stdout.write(f"{merchant_id}: counters {counters} but the ledger says {ledger}")
        if action == "check":
            self.stdout.write(f"{len(merchants) - differing} of {len(merchants)} merchants match the ledger")
            if differing:
                raise SystemExit(1)
