"""`python manage.py costs estimate --monthly-transactions 1000000 --queries-per-transaction 5.2
--retention-days 90`: the DynamoDB cost report."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from costs import forms, report
from costs.estimate import estimate


class Command(BaseCommand):
    help = "Estimate DynamoDB costs: `costs estimate --monthly-transactions N ...` prints the report."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        estimate_parser = sub.add_parser("estimate", help="print the cost report for a volume")
        for name, field in forms.EstimateForm.base_fields.items():
            option = "--" + name.replace("_", "-")
            estimate_parser.add_argument(option, dest=name, default=None, help=str(field.label))
        estimate_parser.add_argument("--json", action="store_true", help="print the API's JSON instead")

    def handle(self, *args, **options) -> None:
        given = {name: options.get(name) for name in forms.EstimateForm.base_fields}
        inputs, form = forms.parse(given)
        if inputs is None:
            raise CommandError("; ".join(f"--{p['param'].replace('_', '-')}: {p['detail']}" for p in form.problems()))
        result = estimate(inputs)
        if options["json"]:
            self.stdout.write(json.dumps(report.estimate_payload(result), indent=2))
            return
        self.stdout.write(report.text_report(result), ending="")
