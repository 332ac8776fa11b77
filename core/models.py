"""The core's one relational table: the task workers that are alive (`core.workers`)."""

from __future__ import annotations

from django.db import models


class TaskWorker(models.Model):
    """A `manage.py db_worker` process, by the worker id it claims tasks under. It writes `beat_at`
    every few seconds while it runs; a task it claimed is stalled once the beats stop."""

    worker_id = models.CharField(max_length=64, primary_key=True)
    host = models.CharField(max_length=255, blank=True, default="")
    pid = models.PositiveIntegerField(null=True)
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField()

    class Meta:
        verbose_name = "task worker"

    def __str__(self) -> str:
        return f"{self.worker_id} ({self.host}:{self.pid}, last beat {self.beat_at:%H:%M:%S})"
