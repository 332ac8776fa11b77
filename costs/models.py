"""Consumed capacity the app measured, per day, activity, operation, table and index."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, models, transaction
from django.db.models import F


class CapacityUsageManager(models.Manager["CapacityUsage"]):
    def add_usage(self, pending: dict[tuple, Any]) -> None:
        """Add counters from `costs.capacity` (one row per key, created on first use)."""
        for (day, activity, operation, table, index), usage in pending.items():
            key = {"day": day, "activity": activity, "operation": operation, "table": table, "index": index}
            increments = {
                "calls": F("calls") + usage.calls,
                "reported_calls": F("reported_calls") + usage.reported_calls,
                "read_units": F("read_units") + usage.read_units,
                "write_units": F("write_units") + usage.write_units,
            }
            if self.filter(**key).update(**increments):
                continue
            try:
                with transaction.atomic():
                    self.create(
                        **key,
                        calls=usage.calls,
                        reported_calls=usage.reported_calls,
                        read_units=usage.read_units,
                        write_units=usage.write_units,
                    )
            except IntegrityError:  # another process created the row first
                self.filter(**key).update(**increments)


class CapacityUsage(models.Model):
    """`table` is empty on the row that counts an activity's calls; `index` is empty for the table's
    own units."""

    day = models.DateField()
    activity = models.CharField(max_length=40)
    operation = models.CharField(max_length=40)
    table = models.CharField(max_length=100, blank=True)
    index = models.CharField(max_length=100, blank=True)
    calls = models.PositiveBigIntegerField(default=0)
    reported_calls = models.PositiveBigIntegerField(default=0)
    read_units = models.DecimalField(max_digits=20, decimal_places=2, default=0)
    write_units = models.DecimalField(max_digits=20, decimal_places=2, default=0)

    objects = CapacityUsageManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "activity", "operation", "table", "index"], name="costs_usage_key")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.activity} {self.operation} {self.table}{'/' + self.index if self.index else ''}"
