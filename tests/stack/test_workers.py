"""Two task workers on one PostgreSQL queue: a task runs once, the periodic chains run once per
period, and the work of a worker that dies is taken up again (`core.workers`)."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from datetime import timedelta
from urllib.parse import quote_plus

import pytest
from django.db import connection
from django.utils import timezone
from django.utils.module_loading import import_string

from core.ids import new_id
from tests.factories import make_payment
from tests.reconciliation.files import csv_bytes, line_for
from tests.stack.helpers import merchant_new, task_rows, wait_for

pytestmark = pytest.mark.stack

SETTLE = "reconciliation.tasks.settlement_process_task"
SEAL = "audit.tasks.audit_seal_task"
SWEEP = "payments.tasks.payment_recover_sweep_task"
CHAINS = (SEAL, SWEEP)
LOST = "core.workers.WorkerLost"


def _settlement_file(merchant_id: str, *, payments: int, unknown: int) -> tuple[list, bytes]:
    """Lines for `payments` new payments of the merchant, then `unknown` lines naming no payment."""
    paid = [make_payment(merchant_id, amount=1000 + n) for n in range(payments)]
    lines = [line_for(payment) for payment in paid]
    template = lines[0]
    lines += [{**template, "payment_id": new_id("pay")} for _ in range(unknown)]
    return paid, csv_bytes(lines)


def _upload(stack, merchant, content: bytes) -> str:
    answer = stack.session(merchant.secret).post(
        f"{stack.nodes[0]}/api/v1/settlements", files={"file": ("stack.csv", content, "text/csv")}, timeout=120
    )
    assert answer.status_code == 202, answer.text
    return answer.json()["id"]


def _settlement(merchant_id: str, settlement_id: str):
    from reconciliation.selectors import settlement_get

    return settlement_get(merchant_id=merchant_id, settlement_id=settlement_id)


def _settle_runs(settlement_id: str) -> list:
    return task_rows(SETTLE, args_kwargs__kwargs__settlement_id=settlement_id)


def _events(merchant_id: str, settlement_id: str, action: str) -> list:
    from audit.selectors import audit_event_list_for_entity

    events = audit_event_list_for_entity(merchant_id=merchant_id, entity_id=settlement_id, limit=100)
    return sorted((event for event in events if event.action == action), key=lambda event: event.occurred_at)


def _settled_once(paid: list, settlement_id: str) -> None:
    from payments.enums import TransactionKind
    from payments.selectors import payment_get, transaction_list_for_payment

    for payment in paid:
        ledger = transaction_list_for_payment(payment_id=payment.payment_id)
        assert [t.kind for t in ledger].count(TransactionKind.SETTLEMENT) == 1, payment.payment_id
        assert (
            payment_get(merchant_id=payment.merchant_id, payment_id=payment.payment_id).settlement_id == settlement_id
        )


def _line_count(settlement_id: str) -> int:
    from reconciliation.models import SettlementLine

    return SettlementLine.count(settlement_id)


def _s3_record(bucket: str, key: str) -> dict:
    return {"s3": {"bucket": {"name": bucket}, "object": {"key": quote_plus(key)}}}


def test_a_settlement_uploaded_through_a_node_is_stored_in_s3_and_processed_once(stack, settings):
    from reconciliation.handlers import s3_event
    from reconciliation.storage import INBOUND_PREFIX, s3_client

    merchant = merchant_new("Stack settlement")
    paid, content = _settlement_file(merchant.merchant_id, payments=10, unknown=40)

    settlement_id = _upload(stack, merchant, content)  # both workers idle, polling the queue

    done = wait_for(
        lambda: _settlement(merchant.merchant_id, settlement_id).status == "completed",
        seconds=120,
        what="the settlement to complete",
    )
    assert done
    settlement = _settlement(merchant.merchant_id, settlement_id)
    bucket, s3 = settings.SETTLEMENT_FILES_BUCKET, s3_client()
    stored = s3.get_object(Bucket=bucket, Key=settlement.storage_name)["Body"].read()
    assert stored == content
    assert not (settings.VAR_DIR / "settlements").exists()  # nothing on the nodes' disks
    [run] = _settle_runs(settlement_id)  # one task, claimed by one of the two workers
    assert run.status == "SUCCESSFUL" and len(run.worker_ids) == 1
    assert len(_events(merchant.merchant_id, settlement_id, "settlement.processing_started")) == 1
    assert len(_events(merchant.merchant_id, settlement_id, "settlement.processing_finished")) == 1
    assert _line_count(settlement_id) == 50
    _settled_once(paid, settlement_id)

    # S3 events on the same bucket: the app's own stored copy, and the same file dropped for the handler.
    inbound = f"{INBOUND_PREFIX}{merchant.merchant_id}/settlement-again.csv"
    s3.put_object(Bucket=bucket, Key=inbound, Body=content)
    own_copy, dropped = s3_event(
        {"Records": [_s3_record(bucket, settlement.storage_name), _s3_record(bucket, inbound)]}
    )["results"]

    assert "settlement_id" not in own_copy and own_copy.get("ignored"), own_copy
    assert dropped["settlement_id"] == settlement_id and dropped["created"] is False, dropped
    assert dropped["status"] == "completed"
    assert len(_events(merchant.merchant_id, settlement_id, "settlement.processing_started")) == 1
    assert len(_settle_runs(settlement_id)) == 1
    _settled_once(paid, settlement_id)


def test_a_worker_killed_mid_settlement_is_replaced_and_the_settlement_resumes_where_it_stopped(stack):
    merchant = merchant_new("Stack settlement, worker killed")
    rows = 3000
    paid, content = _settlement_file(merchant.merchant_id, payments=10, unknown=rows - 10)
    settlement_id = _upload(stack, merchant, content)
    wait_for(
        lambda: int(_settlement(merchant.merchant_id, settlement_id).rows_processed) >= 200,
        seconds=120,
        what="the settlement's first chunks",
    )

    with stack.dynamodb_frozen():  # the worker waits on DynamoDB: killed mid-settlement for sure
        [running] = wait_for(
            lambda: _settle_runs(settlement_id) if _settle_runs(settlement_id)[0].status == "RUNNING" else None,
            seconds=10,
            what="the settlement's task to be running",
        )
        lost_worker = running.worker_ids[-1]
        name = stack.worker_name(lost_worker)
        old_pid = stack.kill(name)

    wait_for(
        lambda: _settlement(merchant.merchant_id, settlement_id).status == "completed",
        seconds=180,
        what="another worker to finish the settlement",
    )
    lost, again = _settle_runs(settlement_id)
    assert lost.status == "FAILED" and lost.exception_class_path == LOST
    assert again.status == "SUCCESSFUL" and again.worker_ids[-1] != lost_worker
    first, resumed = _events(merchant.merchant_id, settlement_id, "settlement.processing_started")
    assert resumed.detail.startswith("resumed after row ") and int(resumed.detail.rsplit(" ", 1)[1]) >= 200
    assert len(_events(merchant.merchant_id, settlement_id, "settlement.processing_finished")) == 1
    assert _line_count(settlement_id) == rows  # the chunk cut short was written again, not twice
    _settled_once(paid, settlement_id)
    stack.wait_restarted(name, old_pid)


def _ready(path: str) -> list:
    return task_rows(path, status="READY")


def _arm_now(due) -> None:
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.filter(task_path__in=CHAINS, status="READY").update(run_after=due)


def _all_at_once(functions: list) -> None:
    """Call every function at the same moment, each in a thread of its own (its own connection)."""
    start = threading.Barrier(len(functions))

    def call(function) -> None:
        start.wait()
        try:
            function()
        finally:
            connection.close()

    threads = [threading.Thread(target=call, args=(function,)) for function in functions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_the_hourly_seal_and_the_recovery_sweep_run_once_per_period_with_two_workers(stack):
    from audit.tasks import audit_seal_schedule
    from payments.tasks import payment_recover_sweep_schedule

    wait_for(lambda: all(len(_ready(path)) == 1 for path in CHAINS), seconds=60, what="both chains armed")
    since = timezone.now()

    # Scheduling from many processes at once (deploy hooks, both workers' sweeps) keeps one next run.
    _all_at_once([audit_seal_schedule, payment_recover_sweep_schedule] * 4)
    assert [len(_ready(path)) for path in CHAINS] == [1, 1]

    periods = 3
    for _ in range(periods):  # each period's run made due now, as if its hour had come
        due = timezone.now()
        _arm_now(due)

        def period_done(due=due) -> bool:
            for path in CHAINS:
                runs, waiting = task_rows(path, started_at__gte=due), _ready(path)
                if [run.status for run in runs] != ["SUCCESSFUL"] or len(waiting) != 1:
                    return False
                if waiting[0].run_after < due + timedelta(minutes=1):  # the next period's, not this one's
                    return False
            return True

        wait_for(period_done, seconds=60, what="one run of each chain and its next run queued")

    for path in CHAINS:
        runs = task_rows(path, started_at__gte=since)
        assert [run.status for run in runs] == ["SUCCESSFUL"] * periods, path
        [waiting] = _ready(path)
        assert waiting.run_after > timezone.now()  # the next period, not another run now
        assert task_rows(path, status="RUNNING") == []


@contextmanager
def _both_workers_free_for(paths: tuple[str, ...]):
    """Every other queued task held back (the recovery of earlier tests' payments, the minutely
    disputes sweep) and none running, so each of the two workers is free to claim one of `paths`'
    runs; the held tasks are due again on leaving."""
    from django_tasks_db.models import DBTaskResult

    held: set = set()

    def others_quiet() -> bool:
        waiting = list(
            DBTaskResult.objects.filter(status="READY").exclude(task_path__in=paths).values_list("id", flat=True)
        )
        held.update(waiting)
        DBTaskResult.objects.filter(id__in=waiting, status="READY").update(
            run_after=timezone.now() + timedelta(hours=1)
        )
        return not DBTaskResult.objects.filter(status="RUNNING").exists()

    wait_for(others_quiet, seconds=60, what="the workers to finish their other tasks")
    try:
        yield
    finally:
        DBTaskResult.objects.filter(id__in=held, status="READY").update(run_after=timezone.now())


def test_the_seal_and_recovery_chains_survive_the_death_of_the_workers_running_them(stack):
    wait_for(lambda: all(len(_ready(path)) == 1 for path in CHAINS), seconds=60, what="both chains armed")
    # each chain's run waits on the frozen DynamoDB, so the worker that claimed it dies mid-run
    with _both_workers_free_for(CHAINS), stack.dynamodb_frozen():
        due = timezone.now()
        _arm_now(due)
        running = wait_for(
            lambda: (
                [row for path in CHAINS for row in task_rows(path, status="RUNNING", started_at__gte=due)]
                if all(task_rows(path, status="RUNNING", started_at__gte=due) for path in CHAINS)
                else None
            ),
            seconds=15,
            what="both chains' runs to be claimed",
        )
        killed = {}
        for row in running:
            name = stack.worker_name(row.worker_ids[-1])
            if name not in killed:
                killed[name] = stack.kill(name)

    def recovered() -> bool:
        for row in running:
            row.refresh_from_db()
        return all(row.status == "FAILED" for row in running) and all(
            any(run.status == "SUCCESSFUL" for run in task_rows(path, started_at__gt=due))
            and len(_ready(path)) == 1
            and _ready(path)[0].run_after > timezone.now()
            for path in CHAINS
        )

    wait_for(recovered, seconds=120, what="the lost runs queued again and both chains re-armed", every=1)
    assert all(row.exception_class_path == LOST for row in running)
    for name, pid in killed.items():
        stack.wait_restarted(name, pid)


# The chains added after the seal and the recovery sweep: each schedule function in TASKS_PERIODIC and
# the task its chain runs. The disputes sweep runs every minute, so its period is not waited out here.
LATER_CHAINS = {
    "payments.tasks.authorization_expiry_sweep_schedule": "payments.tasks.authorization_expiry_sweep_task",
    "disputes.tasks.disputes_sweep_schedule": "disputes.tasks.disputes_sweep_task",
    "compliance.tasks.compliance_report_schedule": "compliance.tasks.compliance_report_periodic_task",
}


def test_every_periodic_chain_is_armed_once_and_a_due_run_runs_once_with_two_workers(stack, settings):
    assert set(settings.TASKS_PERIODIC) == {
        "audit.tasks.audit_seal_schedule",
        "payments.tasks.payment_recover_sweep_schedule",
        *LATER_CHAINS,
    }, "a new periodic chain needs its stack test here"
    paths = tuple(LATER_CHAINS.values())
    wait_for(lambda: all(len(_ready(path)) == 1 for path in paths), seconds=90, what="the later chains armed")

    # Scheduling from many processes at once keeps one next run of each chain.
    _all_at_once([import_string(name) for name in LATER_CHAINS] * 4)
    assert [len(_ready(path)) for path in paths] == [1, 1, 1]

    # Made due now, each chain runs once on one of the two workers and queues its next run.
    from django_tasks_db.models import DBTaskResult

    due = timezone.now()
    DBTaskResult.objects.filter(task_path__in=paths, status="READY").update(run_after=due)

    def ran_once() -> bool:
        return all(
            [run.status for run in task_rows(path, started_at__gte=due)] == ["SUCCESSFUL"]
            and len(_ready(path)) == 1
            and _ready(path)[0].run_after > due
            for path in paths
        )

    wait_for(ran_once, seconds=50, what="one run of each later chain and its next run queued")
    for path in paths:
        assert task_rows(path, status="RUNNING") == [], path
