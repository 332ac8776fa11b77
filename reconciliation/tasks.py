"""The background job (django-tasks): inline in tests, `manage.py db_worker` in dev and prod."""

from __future__ import annotations

from django_tasks import task

from reconciliation.services import settlement_process


@task()
def settlement_process_task(*, merchant_id: str, settlement_id: str) -> None:
    settlement_process(merchant_id=merchant_id, settlement_id=settlement_id)
