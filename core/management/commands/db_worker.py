"""`manage.py db_worker`: django-tasks-db's worker, with a heartbeat and the stalled-work sweep
(`core.workers`). It replaces the library's command of the same name because `core` comes before
`django_tasks_db` in INSTALLED_APPS; every option is the library's."""

from __future__ import annotations

import os
from typing import Any

from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands.db_worker import Command as DatabaseWorkerCommand

from core.workers import Liveness


class Command(DatabaseWorkerCommand):
    help = "Run a database background worker that beats and queues again the tasks of workers that died"

    def handle(self, *args: Any, **options: Any) -> None:
        # With --reload the parent only watches files; the child it starts runs the tasks and beats.
        reloading = options["reload"] and not options["batch"]
        liveness = None
        if not reloading or os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
            liveness = Liveness(worker_id=options["worker_id"])
            liveness.start()
        try:
            super().handle(*args, **options)
        finally:
            if liveness is not None:
                liveness.stop()
