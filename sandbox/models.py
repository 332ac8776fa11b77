"""What the sandbox processor remembers, in the relational database so that every process (the web
workers, the task worker, `manage.py payments recover`) sees the same processor.

A real processor remembers every request by its reference; the sandbox only needs to remember the
ones whose answer it lost (the timeout cards), because those are the only ones anyone asks it about
again, and the approvals Paysite voided (`voided_at`). Approvals and declines of the other test cards
are answered at once and kept nowhere."""

from django.db import models
from django.utils import timezone


class SandboxAuthorization(models.Model):
    """An authorization the sandbox received under `reference` and decided, but did not answer, or an
    approval voided afterwards (`voided_at`)."""

    reference = models.CharField(max_length=64, unique=True)
    approved = models.BooleanField()
    decline_code = models.CharField(max_length=40, blank=True, default="")
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    created = models.DateTimeField(default=timezone.now)
    voided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "sandbox authorization"

    def __str__(self) -> str:
        decision = "approved" if self.approved else self.decline_code
        return f"{self.reference} ({decision}{', voided' if self.voided_at else ''})"
