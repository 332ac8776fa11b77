"""Process a settlement again: resumes an interrupted or failed one from its last saved row."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from core.errors import NotFound
from reconciliation.representations import settlement_object
from reconciliation.services import settlement_process


class Command(BaseCommand):
    help = "Process (or resume) a settlement file: settlement_process SET_ID --merchant MER_ID"

    def add_arguments(self, parser):
        parser.add_argument("settlement_id")
        parser.add_argument("--merchant", required=True)

    def handle(self, *args, settlement_id: str, merchant: str, **options):
        try:
            settlement = settlement_process(merchant_id=merchant, settlement_id=settlement_id)
        except NotFound as error:
            raise CommandError(error.detail) from error
        data = settlement_object(settlement)
        self.stdout.write(
            f"{data['id']} {data['status']}: {data['rows_processed']}/{data['rows_total']} rows, {data['counts']}"
        )
