"""Run every check and render the report (a run's, or a stored one's data) as JSON or a standalone
HTML document."""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable, Mapping
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
    # Where each partition's seal chain was verified to: the next run starts there (not in `as_dict`).
    audit_verified: dict[str, dict[str, str]] = field(default_factory=dict)

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


def compliance_report_run(
    *,
    generated_by: str,
    audit_verified: Mapping[str, Mapping[str, str]] | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> Report:
    """Every check, in order; a check that crashes is a failed row naming the error, not a lost report.
    `audit_verified`: where the previous run left each partition's chain verified (see
    `check_audit_integrity`); `progress(done, total, title)` is called before each check."""
    report = Report(generated_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), generated_by=generated_by)
    context = Context(audit_verified=dict(audit_verified or {}))
    for done, run in enumerate(CHECKS):
        name = run.__name__.removeprefix("check_").replace("_", "-")
        if progress is not None:
            progress(done, len(CHECKS), name)
        started = time.monotonic()
        try:
            check = run(context)
        except Exception as error:  # noqa: BLE001 - reported as the row's failure
            check = Check(name, "-", run.__doc__ or name, status=FAIL, items=[f"the check could not run: {error!r}"])
        check.seconds = round(time.monotonic() - started, 3)
        report.checks.append(check)
    report.audit_verified = context.verified_to
    return report


def report_json(report: Report | Mapping[str, Any]) -> str:
    """A run's report, or a stored report's data."""
    return json.dumps(report.as_dict() if isinstance(report, Report) else report, indent=2)


def report_html(report: Report | Mapping[str, Any]) -> str:
    data = report.as_dict() if isinstance(report, Report) else report
    return render_to_string("compliance/report_document.html", {"report": data, "data": data})
