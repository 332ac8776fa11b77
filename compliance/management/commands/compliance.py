"""`compliance report --format json|html [--output FILE]`: a report run here and now, stored like the
page's (it is then the page's newest); when a run is already active, this one runs unstored."""

from __future__ import annotations

import getpass

from django.core.management.base import BaseCommand

from audit.services import audit_access_record
from compliance.models import RunTrigger
from compliance.report import compliance_report_run, report_html, report_json
from compliance.selectors import compliance_run_latest
from compliance.services import compliance_run_execute, compliance_run_request
from core.actor import CLI_ACTOR
from core.dynamodb_errors import storage_errors


class Command(BaseCommand):
    help = "The PCI DSS compliance report: `compliance report --format json|html [--output FILE]`; exits 1 when a check fails."

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        report = sub.add_parser("report", help="run every check and print the report")
        report.add_argument("--format", choices=["json", "html"], default="json")
        report.add_argument("--output", default=None, help="write to this file instead of standard output")

    def handle(self, *args, action: str, format: str, output: str | None, **options) -> None:
        with storage_errors():
            who = f"{getpass.getuser()} (manage.py)"
            run, created = compliance_run_request(requested_by=who, trigger=RunTrigger.COMMAND)
            stored = compliance_run_execute(run_id=run.pk) if created else None
            if stored is not None and stored.report is not None:
                data = stored.report
            else:
                latest = compliance_run_latest()
                verified = latest.audit_verified if latest else {}
                data = compliance_report_run(generated_by=who, audit_verified=verified).as_dict()
            audit_access_record(actor=CLI_ACTOR, merchant_id=None, action="compliance.report_download", detail=format)
        text = report_json(data) if format == "json" else report_html(data)
        if output:
            with open(output, "w", encoding="utf-8") as handle:
                handle.write(text)
            self.stdout.write(f"wrote {output}: " + ", ".join(f"{n} {s}" for s, n in data["summary"].items()))
        else:
            self.stdout.write(text)
        if data["summary"]["fail"]:
            raise SystemExit(1)
