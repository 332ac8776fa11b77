from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core import tables
from core.dynamodb_errors import storage_errors


class Command(BaseCommand):
    help = "Manage Paysite's DynamoDB tables: create | describe | delete | template."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["create", "describe", "delete", "template"])
        parser.add_argument("--yes", action="store_true", help="delete without asking")

    def handle(self, *args: Any, action: str, yes: bool, **options: Any) -> None:
        if action == "template":
            self.stdout.write(tables.cloudformation_template(), ending="")
            return
        with storage_errors():
            getattr(self, f"_{action}")(yes=yes)

    def _create(self, yes: bool) -> None:
        for result in tables.tables_create():
            self.stdout.write(f"{'created' if result.created else 'exists '}  {result.name}")

    def _describe(self, yes: bool) -> None:
        for table in tables.tables_describe():
            indexes = ", ".join(table.indexes) or "-"
            ttl = table.ttl_attribute or "-"
            self.stdout.write(
                f"{table.name:<36} {table.status:<8} items={table.item_count:<8} "
                f"bytes={table.size_bytes:<10} ttl={ttl:<11} indexes={indexes}"
            )

    def _delete(self, yes: bool) -> None:
        if not yes:
            raise CommandError("This deletes every Paysite table and its data; add --yes to confirm.")
        for name in tables.tables_delete():
            self.stdout.write(f"deleted  {name}")
