from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from core.actor import CLI_ACTOR
from core.dynamodb_errors import storage_errors
from core.errors import DomainError
from merchants.selectors import merchant_list
from merchants.services.merchants import merchant_create


class Command(BaseCommand):
    help = "Merchants: `merchant create --name NAME [--currency usd]` prints the new id alone; `merchant list`."

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a merchant and print its id")
        create.add_argument("--name", required=True)
        create.add_argument("--currency", default="usd")
        create.add_argument("--rate-limit", type=int, default=None, help="requests per minute")
        sub.add_parser("list", help="list merchants")

    def handle(self, *args, action: str, **options) -> None:
        with storage_errors():
            try:
                if action == "create":
                    merchant = merchant_create(
                        name=options["name"],
                        default_currency=options["currency"],
                        rate_limit_per_minute=options["rate_limit"],
                        actor=CLI_ACTOR,
                    )
                    self.stdout.write(merchant.merchant_id)
                else:
                    for merchant in merchant_list():
                        self.stdout.write(f"{merchant.merchant_id}  {merchant.default_currency}  {merchant.name}")
            except DomainError as error:
                raise CommandError(error.detail) from error
