"""Run every check and render the report as JSON or a standalone HTML document."""

from __future__ import annotations

import json
import platform
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string

from compliance.checks import CHECKS, FAIL, NEEDS_ATTENTION, NOT_APPLICABLE, PASS, Check, Context


@dataclass
class Report:
    generated_at: str
    generated_by: str
    checks: list[Check] = field(default_factory=list)

    @property
    def summary(self) -> dict[str, int]:
        counts = {PASS: 0, FAIL: 0, NEEDS_ATTENTION: 0, NOT_APPLICABLE: 0}
        for check in self.checks:
            counts[check.status] += 1
        return counts

    @property
    def ok(self) -> bool:
        return not any(check.status == FAIL for check in self.checks)

    def as_dict(self) -> dict[str, Any]:
        return {
            "object": "compliance_report",
            "standard": "PCI DSS v4.0.1",
            "generated_at": self.generated_at,
            "generated_by": self.generated_by,
            "instance": {
                "debug": settings.DEBUG,
                "host": platform.node(),
                "table_prefix": settings.DYNAMODB["TABLE_PREFIX"],
            },
            "summary": self.summary,
            "checks": [check.as_dict() for check in self.checks],
        }


def compliance_report_run(*, generated_by: str) -> Report:
    """Every check, in order; a check that crashes is a failed row naming the error, not a lost report."""
    report = Report(generated_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), generated_by=generated_by)
    context = Context()
    for run in CHECKS:
        try:
            report.checks.append(run(context))
        except Exception as error:  # noqa: BLE001 - reported as the row's failure
            name = run.__name__.removeprefix("check_").replace("_", "-")
            report.checks.append(
                Check(name, "-", run.__doc__ or name, status=FAIL, items=[f"the check could not run: {error!r}"])
            )
    return report


def report_json(report: Report) -> str:
    return json.dumps(report.as_dict(), indent=2)


def report_html(report: Report) -> str:
    return render_to_string("compliance/report_document.html", {"report": report, "data": report.as_dict()})
