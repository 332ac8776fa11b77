"""Stored compliance reports: one `ComplianceRun` per run (scheduled, "Run now" or the command), in
the relational database beside the task queue that runs them (docs/DECISIONS.md).

At most one run is active (queued or running) at a time: `active` is True for it and NULL for every
other row, under a unique constraint, so a second "Run now" finds the first instead of queuing again,
whatever the timing. A running run records its progress and the time of its last step, so a run
whose worker died is seen as abandoned and does not block the next."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class RunTrigger(models.TextChoices):
    SCHEDULE = "schedule", "Schedule"
    REQUEST = "request", "Run now"
    COMMAND = "command", "Command"


class ComplianceRun(models.Model):
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED)
    trigger = models.CharField(max_length=16, choices=RunTrigger.choices)
    active = models.BooleanField(null=True, default=True, unique=True)  # True while queued or running
    requested_by = models.CharField(max_length=200)
    requested_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    touched_at = models.DateTimeField(default=timezone.now)  # the last step of a run: abandoned when old
    checks_done = models.PositiveSmallIntegerField(default=0)
    checks_total = models.PositiveSmallIntegerField(default=0)
    current = models.CharField(max_length=200, blank=True)
    seconds = models.FloatField(null=True, blank=True)
    report = models.JSONField(null=True, blank=True)
    # Where the audit chain of each partition was verified to: {partition: {"period_end", "seal_hash"}}.
    # The next run verifies only what was sealed after it (audit.verification, `since`).
    audit_verified = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["status", "-finished_at"], name="compliance_run_done")]

    def __str__(self) -> str:
        return f"compliance run {self.pk} ({self.status})"

    @property
    def running(self) -> bool:
        return self.status in (RunStatus.QUEUED, RunStatus.RUNNING)

    @property
    def percent(self) -> int:
        return min(100, self.checks_done * 100 // self.checks_total) if self.checks_total else 0
