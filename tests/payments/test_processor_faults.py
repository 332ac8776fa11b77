"""Processor faults: an error charges nothing and stores nothing; a timeout stores the payment as
`processing`, and a retry with the same Idempotency-Key or `manage.py payments recover` resolves it
by asking the processor (`lookup`), never by authorizing again. An approval whose payment cannot be
stored is voided at the processor, or kept under its reference for the retry; the reference is the
random one of the request's Idempotency-Key claim, never one an earlier request used."""

from __future__ import annotations

import io
import json
import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.selectors import audit_event_list_for_entity
from core.wire import to_json
from idempotency.models import IdempotencyRecord
from merchants.services.merchants import merchant_webhook_url_set
from payments import processor, selectors, services, tasks
from payments.enums import PaymentStatus, TransactionKind, TransactionStatus
from payments.errors import ProcessorError
from payments.models import Payment, Transaction
from payments.representations import payment_object
from payments.tasks import (
    RECOVERY_ATTEMPTS,
    RECOVERY_DELAY,
    SWEEP_INTERVAL,
    payment_recover_sweep_task,
    payment_recover_task,
)
from sandbox.models import SandboxAuthorization
from tests.factories import TEST_ACTOR, make_api_key, make_merchant, make_user
from tests.payments.helpers import Integrator, card_body, integrator, payment_body, problem
from tests.reliability import faults
from tests.reliability.faults import THROTTLING
from webhooks.models import WebhookEventType
from webhooks.selectors import webhook_delivery_list_for_entity

pytestmark = pytest.mark.django_db

APPROVED_LATE = processor.TIMEOUT_CARD  # approved at the processor, the answer lost
NEVER_RECEIVED = processor.TIMEOUT_UNRECEIVED_CARD


def _timeout_body(number: str = APPROVED_LATE, **overrides) -> dict:
    return payment_body(card=card_body(number), **overrides)


def _ledger(payment_id: str) -> list[tuple[str, str]]:
    return [(t.kind, t.status) for t in selectors.transaction_list_for_payment(payment_id=payment_id)]


def _summary(merchant_id: str):
    today = timezone.now().date()
    return selectors.payment_summary(merchant_id=merchant_id, start=today, end=today).currencies["usd"]


def _actions(merchant_id: str, payment_id: str) -> list[str]:
    events = audit_event_list_for_entity(merchant_id=merchant_id, entity_id=payment_id)
    return sorted(event.action for event in events)


def _spy_on_the_processor(monkeypatch) -> Counter:
    calls: Counter = Counter()

    def spying(name: str):
        real = getattr(processor, name)

        def spy(**kwargs):
            calls[name] += 1
            return real(**kwargs)

        return spy

    for name in ("authorize", "lookup"):
        monkeypatch.setattr(processor, name, spying(name))
    return calls


def _unavailable(**kwargs):
    raise ProcessorError("The processor is down.")


def _timed_out(api, key: str, **overrides) -> str:
    response = api.post("/payments", _timeout_body(**overrides), key=key)
    assert response.status_code == 504, response.content
    body = problem(response)
    assert body["code"] == "processor_timeout" and body["payment_id"].startswith("pay_")
    return body["payment_id"]


@pytest.mark.engine
def test_a_timeout_stores_the_payment_as_processing_and_names_it(dynamodb_backend):
    api = integrator()

    payment_id = _timed_out(api, "k-timeout")

    shown = api.get(f"/payments/{payment_id}").json()
    assert shown["status"] == PaymentStatus.PROCESSING and shown["amount_captured"] == 0
    assert shown["transactions"] == []  # nothing is known to have moved yet
    assert [p["id"] for p in api.get("/payments", status=PaymentStatus.PROCESSING).json()["data"]] == [payment_id]
    summary = _summary(api.merchant_id)
    assert summary.count_by_status[PaymentStatus.PROCESSING] == 1 and summary.captured == 0
    record = IdempotencyRecord.get(f"{api.merchant_id}#POST /payments#k-timeout", consistent_read=True)
    assert record.status == "processing" and record.payment_id == payment_id
    assert _actions(api.merchant_id, payment_id) == ["payment.create"]
    assert webhook_delivery_list_for_entity(merchant_id=api.merchant_id, entity_id=payment_id) == []


@pytest.mark.engine
def test_a_retry_with_the_same_key_resolves_it_without_charging_again(dynamodb_backend, monkeypatch):
    api = integrator()
    payment_id = _timed_out(api, "k-retry")
    calls = _spy_on_the_processor(monkeypatch)

    retried = api.post("/payments", _timeout_body(), key="k-retry")

    assert calls == {"lookup": 1}  # asked what it decided; not asked to authorize again

    assert retried.status_code == 201, retried.content
    assert retried["Idempotent-Replayed"] == "true"  # the outcome of the first request
    body = retried.json()
    assert body["id"] == payment_id and body["status"] == PaymentStatus.SUCCEEDED and body["amount_captured"] == 2500
    assert _ledger(payment_id) == [
        (TransactionKind.AUTHORIZATION, TransactionStatus.SUCCEEDED),
        (TransactionKind.CAPTURE, TransactionStatus.SUCCEEDED),
    ]
    assert SandboxAuthorization.objects.count() == 1  # one authorization at the processor
    summary = _summary(api.merchant_id)
    assert (
        summary.count_by_status[PaymentStatus.PROCESSING] == 0 and summary.count_by_status[PaymentStatus.SUCCEEDED] == 1
    )
    assert summary.captured == 2500
    assert _actions(api.merchant_id, payment_id) == ["payment.create", "payment.resolve"]

    replay = api.post("/payments", _timeout_body(), key="k-retry")
    assert replay.status_code == 201 and replay.content == retried.content
    assert replay["Idempotent-Replayed"] == "true"


@pytest.mark.engine
def test_a_timeout_queues_its_recovery_and_the_resolution_sends_the_webhook(dynamodb_backend, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}  # queues, runs nothing
    backend = payment_recover_task.get_backend()
    merchant = make_merchant()
    merchant_webhook_url_set(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, url="https://hooks.example.com/p")
    api = Integrator(client=Client(), merchant_id=merchant.merchant_id, secret=make_api_key(merchant.merchant_id))
    started = timezone.now()

    payment_id = _timed_out(api, "k-queued")

    [queued] = [result for result in backend.results if result.task.func is payment_recover_task.func]
    assert queued.args == [merchant.merchant_id, payment_id, 0]
    assert started + RECOVERY_DELAY <= queued.task.run_after <= timezone.now() + RECOVERY_DELAY
    assert webhook_delivery_list_for_entity(merchant_id=merchant.merchant_id, entity_id=payment_id) == []

    assert payment_recover_task.call(*queued.args) == PaymentStatus.SUCCEEDED

    events = webhook_delivery_list_for_entity(merchant_id=merchant.merchant_id, entity_id=payment_id)
    assert [event.event_type for event in events] == [WebhookEventType.PAYMENT_SUCCEEDED]
    assert json.loads(events[0].payload)["data"]["object"]["status"] == PaymentStatus.SUCCEEDED


@pytest.mark.engine
def test_a_recovery_task_that_cannot_reach_the_processor_queues_itself_again_a_bounded_number_of_times(
    dynamodb_backend, settings, monkeypatch
):
    api = integrator()
    payment_id = _timed_out(api, "k-again")
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    backend = payment_recover_task.get_backend()
    monkeypatch.setattr(processor, "lookup", _unavailable)

    assert payment_recover_task.call(api.merchant_id, payment_id, 0) == PaymentStatus.PROCESSING
    [again] = backend.results
    assert again.args == [api.merchant_id, payment_id, 1]
    assert again.task.run_after >= timezone.now() + RECOVERY_DELAY * 2 - timedelta(seconds=5)

    backend.clear()
    assert payment_recover_task.call(api.merchant_id, payment_id, RECOVERY_ATTEMPTS - 1) == PaymentStatus.PROCESSING
    assert backend.results == []  # the last attempt: `payments recover` takes over


@pytest.mark.engine
def test_the_recovery_sweep_is_queued_once_resolves_everything_and_queues_its_next_run(
    dynamodb_backend, settings, monkeypatch
):
    from django_tasks_db.models import DBTaskResult

    api = integrator()
    payment_id = _timed_out(api, "k-sweep")
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}  # what the worker reads
    waiting = DBTaskResult.objects.filter(task_path=payment_recover_sweep_task.module_path, status="READY")
    started = timezone.now()

    out = io.StringIO()
    call_command("payments", "schedule", stdout=out)
    call_command("payments", "schedule", stdout=out)

    assert out.getvalue().splitlines()[1] == "recovery sweep already queued"
    [queued] = waiting
    assert started + SWEEP_INTERVAL <= queued.run_after <= timezone.now() + SWEEP_INTERVAL
    queued.delete()

    assert payment_recover_sweep_task.call() == {"checked": 1, "resolved": 1, "still_processing": 0}
    assert selectors.payment_get(merchant_id=api.merchant_id, payment_id=payment_id).status == PaymentStatus.SUCCEEDED
    assert waiting.count() == 1  # the next sweep
    waiting.delete()

    def storage_down(**kwargs):
        raise RuntimeError("DynamoDB is unreachable")

    monkeypatch.setattr(tasks, "payment_recover_all", storage_down)
    with pytest.raises(RuntimeError):
        payment_recover_sweep_task.call()
    assert waiting.count() == 1  # a failed sweep still queues the next one


@pytest.mark.engine
def test_a_payment_created_without_capture_resolves_to_requires_capture(dynamodb_backend):
    api = integrator()
    payment_id = _timed_out(api, "k-auth", capture=False)

    retried = api.post("/payments", _timeout_body(capture=False), key="k-auth")

    assert retried.status_code == 201 and retried.json()["status"] == PaymentStatus.REQUIRES_CAPTURE
    assert _ledger(payment_id) == [(TransactionKind.AUTHORIZATION, TransactionStatus.SUCCEEDED)]
    captured = api.post(f"/payments/{payment_id}/capture", {})
    assert captured.status_code == 200 and captured.json()["status"] == PaymentStatus.SUCCEEDED


@pytest.mark.engine
def test_a_payment_the_processor_never_received_fails_and_charges_nothing(dynamodb_backend):
    api = integrator()
    payment_id = _timed_out(api, "k-lost", number=NEVER_RECEIVED)

    retried = api.post("/payments", _timeout_body(NEVER_RECEIVED), key="k-lost")

    assert retried.status_code == 402
    body = problem(retried)
    assert body["code"] == "processor_timeout" and body["payment_id"] == payment_id
    assert body["title"] == "The payment failed" and "nothing was charged" in body["detail"]
    payment = api.get(f"/payments/{payment_id}").json()
    assert payment["status"] == PaymentStatus.FAILED and payment["failure_code"] == "processor_timeout"
    assert payment["amount_captured"] == 0
    assert _ledger(payment_id) == [(TransactionKind.AUTHORIZATION, TransactionStatus.FAILED)]
    assert SandboxAuthorization.objects.count() == 0
    assert api.post("/payments", _timeout_body(NEVER_RECEIVED), key="k-lost").content == retried.content


@pytest.mark.engine
def test_the_same_key_with_another_body_is_still_422_while_processing(dynamodb_backend):
    api = integrator()
    _timed_out(api, "k-other")

    response = api.post("/payments", _timeout_body(amount=9999), key="k-other")

    assert response.status_code == 422 and problem(response)["code"] == "idempotency_key_reused"


@pytest.mark.engine
def test_while_the_processor_cannot_be_asked_the_payment_stays_processing(dynamodb_backend, monkeypatch):
    api = integrator()
    payment_id = _timed_out(api, "k-down")

    monkeypatch.setattr(processor, "lookup", _unavailable)
    retried = api.post("/payments", _timeout_body(), key="k-down")
    assert retried.status_code == 504 and problem(retried)["payment_id"] == payment_id
    with pytest.raises(CommandError, match="1 payment\\(s\\) are still processing"):
        call_command("payments", "recover")
    assert selectors.payment_get(merchant_id=api.merchant_id, payment_id=payment_id).status == PaymentStatus.PROCESSING
    assert Transaction.count(payment_id) == 0

    monkeypatch.undo()
    assert api.post("/payments", _timeout_body(), key="k-down").json()["status"] == PaymentStatus.SUCCEEDED


@pytest.mark.engine
def test_recover_resolves_every_merchants_processing_payments_and_completes_their_keys(dynamodb_backend, capsys):
    first, second = integrator(), integrator()
    approved = _timed_out(first, "k-1")
    unreceived = _timed_out(first, "k-2", number=NEVER_RECEIVED)
    uncaptured = _timed_out(second, "k-3", capture=False)
    other = first.create()  # an ordinary payment is left alone

    call_command("payments", "recover")

    out = capsys.readouterr().out
    assert "Checked 3 processing payment(s): resolved 3 (1 failed, 1 requires_capture, 1 succeeded)" in out
    assert "0 still processing" in out
    statuses = {
        payment_id: selectors.payment_get(merchant_id=api.merchant_id, payment_id=payment_id).status
        for api, payment_id in [(first, approved), (first, unreceived), (second, uncaptured), (first, other["id"])]
    }
    assert statuses == {
        approved: PaymentStatus.SUCCEEDED,
        unreceived: PaymentStatus.FAILED,
        uncaptured: PaymentStatus.REQUIRES_CAPTURE,
        other["id"]: PaymentStatus.SUCCEEDED,
    }
    # The client that comes back later gets the outcome recovery stored, as the API renders it.
    replay = first.post("/payments", _timeout_body(), key="k-1")
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
    resolved = selectors.payment_get(merchant_id=first.merchant_id, payment_id=approved)
    assert replay.content.decode() == to_json(payment_object(resolved))
    failed = first.post("/payments", _timeout_body(NEVER_RECEIVED), key="k-2")
    assert failed.status_code == 402 and problem(failed)["payment_id"] == unreceived

    call_command("payments", "recover")
    assert "No payments are processing." in capsys.readouterr().out


def test_recover_for_an_unknown_merchant_is_an_error(dynamodb_backend):
    with pytest.raises(CommandError, match="No merchant"):
        call_command("payments", "recover", "--merchant", "mer_nope")


@pytest.mark.engine
def test_recover_skips_a_key_that_expired_and_still_resolves_the_payment(dynamodb_backend):
    api = integrator()
    payment_id = _timed_out(api, "k-old")
    record = IdempotencyRecord.get(f"{api.merchant_id}#POST /payments#k-old")
    record.update(actions=[IdempotencyRecord.expires_at.set(timezone.now() - timedelta(seconds=1))])

    assert services.payment_recover(merchant_id=api.merchant_id, payment_id=payment_id) == PaymentStatus.SUCCEEDED

    # Expired: left to its TTL, not completed (the engine's TTL sweep may already have deleted it).
    left = list(IdempotencyRecord.query(record.idempotency_key, consistent_read=True))
    assert [item.status for item in left] in ([], [PaymentStatus.PROCESSING])


@pytest.mark.engine
def test_the_recovery_task_resolves_its_payment(dynamodb_backend):
    api = integrator()
    payment_id = _timed_out(api, "k-task")

    result = payment_recover_task.enqueue(api.merchant_id, payment_id, 0)

    assert result.return_value == PaymentStatus.SUCCEEDED
    assert payment_recover_task.enqueue(api.merchant_id, payment_id, 0).return_value == PaymentStatus.SUCCEEDED


def _without_idempotency(snapshot: dict) -> dict:
    return {table: items for table, items in snapshot.items() if table != "idempotency"}


def _record(api: Integrator, key: str) -> IdempotencyRecord:
    return IdempotencyRecord.get(f"{api.merchant_id}#POST /payments#{key}", consistent_read=True)


def _spy_on_references(monkeypatch) -> list[tuple[str, str]]:
    """The processor calls made, in order, each with the reference it was sent."""
    asked: list[tuple[str, str]] = []
    for name in ("authorize", "lookup", "void"):
        real = getattr(processor, name)

        def spy(*, _name=name, _real=real, **kwargs):
            asked.append((_name, kwargs["reference"]))
            return _real(**kwargs)

        monkeypatch.setattr(processor, name, spy)
    return asked


@pytest.mark.engine
def test_a_timeout_whose_record_could_not_be_stored_is_the_same_request_at_the_processor(dynamodb_backend, settings):
    """The processor approved, its answer was lost, and storing the `processing` payment failed too:
    the claim is kept with its reference (its lock released) and the retry asks the processor what
    it decided for that reference: one charge, one payment."""
    settings.DYNAMODB = {**settings.DYNAMODB, "DEADLINE": 1.0}
    api = integrator()
    before = faults.table_snapshot()
    with faults.injected() as injected:
        injected.fail("TransactWriteItems", THROTTLING)
        response = api.post("/payments", _timeout_body(), key="k-nowhere")
    assert response.status_code == 503
    body = problem(response)
    assert body["code"] == "storage_unavailable" and "without charging again" in body["detail"]
    assert _without_idempotency(faults.table_snapshot()) == _without_idempotency(before)
    kept = _record(api, "k-nowhere")
    assert kept.status == "in_progress" and kept.lock_expires_at == 0
    [decided] = SandboxAuthorization.objects.all()
    assert decided.reference == kept.reference

    retried = api.post("/payments", _timeout_body(), key="k-nowhere")

    assert retried.status_code == 201 and retried.json()["status"] == PaymentStatus.SUCCEEDED
    assert SandboxAuthorization.objects.count() == 1
    assert [p.payment_id for p in Payment.by_merchant.query(api.merchant_id)] == [retried.json()["id"]]


@pytest.mark.engine
def test_a_key_used_again_after_its_record_expired_is_a_new_request_at_the_processor(dynamodb_backend, monkeypatch):
    """Idempotency records live 24 hours; the processor reference must not outlive them. A key
    reused for another payment once its record expired gets a reference no request ever had, so the
    processor cannot answer it with the earlier request's decision."""
    api = integrator()
    asked = _spy_on_references(monkeypatch)
    first = api.post("/payments", payment_body(amount=1000), key="k-reused")
    assert first.status_code == 201
    _record(api, "k-reused").update(actions=[IdempotencyRecord.expires_at.set(timezone.now() - timedelta(seconds=1))])

    second = api.post("/payments", payment_body(amount=2000), key="k-reused")

    assert second.status_code == 201 and "Idempotent-Replayed" not in second
    assert second.json()["id"] != first.json()["id"] and second.json()["amount"] == 2000
    [(_, earlier), (_, later)] = [call for call in asked if call[0] == "authorize"]
    assert earlier != later
    assert [call for call in asked if call[0] != "authorize"] == []  # a new request: nothing looked up


@pytest.mark.engine
@pytest.mark.parametrize("capture", [True, False], ids=["captured", "authorized"])
def test_an_approval_whose_payment_cannot_be_stored_is_voided_at_the_processor(
    dynamodb_backend, settings, monkeypatch, capture
):
    settings.DYNAMODB = {**settings.DYNAMODB, "DEADLINE": 1.0}
    api = integrator()
    asked = _spy_on_references(monkeypatch)
    before = faults.table_snapshot()
    with faults.injected() as injected:
        injected.fail("TransactWriteItems", THROTTLING)
        response = api.post("/payments", payment_body(capture=capture), key="k-void")

    assert response.status_code == 503 and response["Retry-After"] == "1"
    body = problem(response)
    assert body["code"] == "storage_unavailable"
    assert "authorized" in body["detail"] and "voided" in body["detail"]
    assert "nothing was charged" in body["detail"] and "nothing is known" not in body["detail"]
    reference = asked[0][1]
    assert asked == [("authorize", reference), ("void", reference)]
    # At the processor: the approval is voided, so nothing is charged under its reference.
    voided = SandboxAuthorization.objects.get(reference=reference)
    assert voided.voided_at is not None and (voided.amount, voided.currency) == (2500, "usd")
    assert processor.lookup(reference=reference) == processor.Authorization(approved=True, voided=True)
    # At Paysite: no payment, ledger entry, counter, audit or webhook event; the key starts afresh.
    assert faults.table_snapshot() == before
    asked.clear()

    retried = api.post("/payments", payment_body(capture=capture), key="k-void")

    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried
    [(call, fresh)] = asked
    assert call == "authorize" and fresh != reference  # a new authorization, under a reference of its own
    assert [p.payment_id for p in Payment.by_merchant.query(api.merchant_id)] == [retried.json()["id"]]
    assert _summary(api.merchant_id).captured == (2500 if capture else 0)


@pytest.mark.engine
def test_when_the_void_fails_too_a_retry_with_the_same_key_records_the_approval_without_charging_again(
    dynamodb_backend, settings, monkeypatch
):
    settings.DYNAMODB = {**settings.DYNAMODB, "DEADLINE": 1.0}
    api = integrator()
    monkeypatch.setattr(processor, "void", _unavailable)
    asked = _spy_on_references(monkeypatch)
    before = faults.table_snapshot()
    with faults.injected() as injected:
        injected.fail("TransactWriteItems", THROTTLING)
        response = api.post("/payments", payment_body(), key="k-kept")

    assert response.status_code == 503
    body = problem(response)
    assert body["code"] == "storage_unavailable" and "voiding the authorization" in body["detail"]
    assert "same Idempotency-Key" in body["detail"] and "nothing is known" not in body["detail"]
    reference = asked[0][1]
    assert asked == [("authorize", reference), ("void", reference)]
    assert _without_idempotency(faults.table_snapshot()) == _without_idempotency(before)  # no payment yet
    kept = _record(api, "k-kept")
    assert (kept.status, kept.reference, kept.lock_expires_at) == ("in_progress", reference, 0)

    retried = api.post("/payments", payment_body(), key="k-kept")

    assert retried.status_code == 201, retried.content
    # The same request at the processor: asked what it decided for the reference, then (the sandbox
    # keeps no memory of ordinary approvals) sent under the same reference, which a processor answers
    # with its first decision. Never a second reference, so never a second charge.
    assert asked[2:] == [("lookup", reference), ("authorize", reference)]
    payment_id = retried.json()["id"]
    assert [p.payment_id for p in Payment.by_merchant.query(api.merchant_id)] == [payment_id]
    assert _ledger(payment_id) == [
        (TransactionKind.AUTHORIZATION, TransactionStatus.SUCCEEDED),
        (TransactionKind.CAPTURE, TransactionStatus.SUCCEEDED),
    ]
    assert _summary(api.merchant_id).captured == 2500
    replay = api.post("/payments", payment_body(), key="k-kept")
    assert replay.content == retried.content and replay["Idempotent-Replayed"] == "true"


@pytest.mark.engine_only
def test_a_payment_recorded_although_its_transaction_failed_is_not_voided(dynamodb_backend, settings, monkeypatch):
    """The transaction committed and only its answer was lost (no time left to send it again, which
    DynamoDB would answer with the first result): the payment stands and nothing is voided."""
    settings.DYNAMODB = {**settings.DYNAMODB, "DEADLINE": 0.0}  # one attempt per call
    api = integrator()
    asked = _spy_on_references(monkeypatch)
    with faults.lost_answer("TransactWriteItems") as sent:
        response = api.post("/payments", payment_body(), key="k-lost-answer")

    assert sent["TransactWriteItems"] == 1
    assert response.status_code == 201, response.content
    assert [name for name, _ in asked] == ["authorize"]
    assert SandboxAuthorization.objects.count() == 0
    replay = api.post("/payments", payment_body(), key="k-lost-answer")
    assert replay.content == response.content and replay["Idempotent-Replayed"] == "true"


def test_a_voided_authorization_fails_a_processing_payment_it_resolves(dynamodb_backend, monkeypatch):
    api = integrator()
    payment_id = _timed_out(api, "k-voided")
    payment = selectors.payment_get(merchant_id=api.merchant_id, payment_id=payment_id)
    processor.void(reference=payment.processor_reference, amount=2500, currency="usd")

    assert services.payment_recover(merchant_id=api.merchant_id, payment_id=payment_id) == PaymentStatus.FAILED

    resolved = selectors.payment_get(merchant_id=api.merchant_id, payment_id=payment_id)
    assert resolved.amount_captured == 0 and _summary(api.merchant_id).captured == 0
    assert _ledger(payment_id) == [(TransactionKind.AUTHORIZATION, TransactionStatus.FAILED)]


@pytest.mark.engine_only
@pytest.mark.django_db(transaction=True)
def test_a_retry_racing_recovery_resolves_the_payment_once(dynamodb_backend):
    api = integrator()
    payment_id = _timed_out(api, "k-race")
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}

    def retry() -> None:
        barrier.wait()
        results["retry"] = api.post("/payments", _timeout_body(), key="k-race")

    def recover() -> None:
        barrier.wait()
        results["recover"] = services.payment_recover(merchant_id=api.merchant_id, payment_id=payment_id)

    threads = [threading.Thread(target=retry), threading.Thread(target=recover)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert results["recover"] == PaymentStatus.SUCCEEDED
    response = results["retry"]
    assert response.status_code == 201 and json.loads(response.content)["id"] == payment_id
    assert _ledger(payment_id) == [
        (TransactionKind.AUTHORIZATION, TransactionStatus.SUCCEEDED),
        (TransactionKind.CAPTURE, TransactionStatus.SUCCEEDED),
    ]
    assert _actions(api.merchant_id, payment_id) == ["payment.create", "payment.resolve"]
    assert _summary(api.merchant_id).captured == 2500
    replay = api.post("/payments", _timeout_body(), key="k-race")
    assert replay.content == response.content


def test_the_sandbox_voids_an_approval_and_then_answers_it_voided():
    reference = "ref_" + "0" * 32

    processor.void(reference=reference, amount=700, currency="eur")

    assert processor.lookup(reference=reference) == processor.Authorization(approved=True, voided=True)
    [voided] = SandboxAuthorization.objects.all()
    assert (voided.amount, voided.currency) == (700, "eur") and "voided" in str(voided)


def test_the_sandbox_answers_a_repeated_reference_with_its_first_decision(settings):
    settings.SANDBOX_TIMEOUT_SECONDS = 0
    reference = processor.reference_for("mer_1#POST /payments#k")
    assert reference == processor.reference_for("mer_1#POST /payments#k")
    assert reference != processor.reference_for("mer_2#POST /payments#k") and "k" not in reference[4:]

    with pytest.raises(processor.ProcessorTimeout):
        processor.authorize(number=APPROVED_LATE, amount=100, currency="usd", reference=reference)
    assert processor.lookup(reference=reference) == processor.Authorization(approved=True)
    again = processor.authorize(number=APPROVED_LATE, amount=100, currency="usd", reference=reference)
    assert again == processor.Authorization(approved=True) and SandboxAuthorization.objects.count() == 1

    SandboxAuthorization.objects.update(created=timezone.now() - processor.REFERENCE_WINDOW - timedelta(seconds=1))
    assert processor.lookup(reference=reference) is None  # a processor forgets references after 24 hours


@pytest.mark.engine
def test_the_payment_page_explains_a_processing_payment(dynamodb_backend):
    api = integrator()
    payment_id = _timed_out(api, "k-page")
    client = Client()
    client.force_login(make_user(merchant_id=api.merchant_id, role="operator"))

    page = client.get(reverse("payments:payment-detail", args=[payment_id])).content.decode()

    assert 'data-testid="payment-status">Processing<' in page and 'data-testid="processing-notice"' in page
    listing = client.get(reverse("payments:payment-list"), {"status": PaymentStatus.PROCESSING}).content.decode()
    assert payment_id in listing
    home = client.get(reverse("home")).content.decode()
    assert 'data-testid="processing-alert"' in home and "1 USD payment of the last 30 days is waiting" in home

    ops = Client()
    ops.force_login(make_user(staff=True))
    merchants = ops.get(reverse("ops:merchant-list")).content.decode()
    assert "1 processing</span>" in merchants

    api.post("/payments", _timeout_body(), key="k-page")  # resolved: nothing waits any more
    assert 'data-testid="processing-alert"' not in client.get(reverse("home")).content.decode()
