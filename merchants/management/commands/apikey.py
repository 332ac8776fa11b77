from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from core.actor import CLI_ACTOR
from core.dynamodb_errors import storage_errors
from core.errors import DomainError
from merchants.selectors import api_key_list_for_merchant, merchant_get
from merchants.services.api_keys import api_key_create, api_key_revoke


class Command(BaseCommand):
    help = (
        "API keys: `apikey create --merchant MER_ID [--name NAME]` prints the secret alone (shown once); "
        "`apikey list --merchant MER_ID`; `apikey revoke KEY_ID`."
    )

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a key and print its secret")
        create.add_argument("--merchant", required=True)
        create.add_argument("--name", default="")
        listing = sub.add_parser("list", help="list a merchant's keys")
        listing.add_argument("--merchant", required=True)
        revoke = sub.add_parser("revoke", help="revoke a key at once")
        revoke.add_argument("key_id")

    def handle(self, *args, action: str, **options) -> None:
        with storage_errors():
            try:
                if action == "create":
                    created = api_key_create(merchant_id=options["merchant"], name=options["name"], actor=CLI_ACTOR)
                    self.stdout.write(created.secret)
                elif action == "list":
                    merchant_get(merchant_id=options["merchant"])
                    for key in api_key_list_for_merchant(merchant_id=options["merchant"]):
                        state = f"revoked {key.revoked:%Y-%m-%d %H:%M}" if key.revoked else "active"
                        self.stdout.write(f"{key.key_id}  {key.prefix}…  {state:<24} {key.name}")
                else:
                    key = api_key_revoke(key_id=options["key_id"], actor=CLI_ACTOR)
                    self.stdout.write(f"revoked {key.key_id}")
            except DomainError as error:
                raise CommandError(error.detail) from error
