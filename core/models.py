"""The core's relational tables: the task workers that are alive (`core.workers`) and each person's
preferences (`core.theme`)."""

from __future__ import annotations

from django.conf import settings
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


class UserPreference(models.Model):
    """What a person chose for how pages look, kept with their account (every browser they sign in
    on): the colour theme, `auto` (follow the OS), `light` or `dark`. See `core.theme`."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference")
    theme = models.CharField(max_length=8, default="auto")

    class Meta:
        verbose_name = "user preference"

    def __str__(self) -> str:
        return f"{self.user_id}: theme {self.theme}"
