"""Webhook events: written with the payment change, delivered signed, retried, recorded."""

import json
import socket
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
import pytest
from django.test import override_settings
from pynamodb.exceptions import TransactWriteError

from core import dynamodb
from merchants.models import Merchant
from merchants.selectors import merchant_get
from merchants.services.merchants import (
    merchant_webhook_secret_reveal,
    merchant_webhook_secret_rotate,
    merchant_webhook_url_set,
)
from payments import selectors, services
from payments.enums import PaymentStatus
from payments.errors import CardDeclined
from payments.representations import payment_object
from tests.factories import TEST_ACTOR, card, make_merchant, make_payment
from tests.webhooks.network import CountingListener, FakeNetwork, HugeAnswerEndpoint
from webhooks.models import DeliveryStatus, WebhookEventType
from webhooks.selectors import (
    webhook_delivery_get,
    webhook_delivery_list_for_entity,
    webhook_delivery_list_for_merchant,
)
from webhooks.services import webhook_retry_delay
from webhooks.signing import SIGNATURE_HEADER, webhook_signature_verify
from webhooks.tasks import webhook_delivery_run

pytestmark = pytest.mark.engine

PUBLIC_URL = "https://hooks.example.com/paysite"


class Receiver:
    """A merchant endpoint on 127.0.0.1: records each request and answers with the next status."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        self.location: str | None = None  # sent as `Location` (with a 3xx status)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        if self.thread.is_alive():
            self.server.shutdown()
            self.server.server_close()
            self.thread.join()


@pytest.fixture
def receiver():
    endpoint = Receiver()
    yield endpoint
    endpoint.close()


@pytest.fixture
def deferred_tasks(settings):
    """A task backend that queues instead of running, so a test sees what was enqueued and when."""
    from webhooks.tasks import webhook_deliver

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    return webhook_deliver.get_backend()


def _merchant_with_url(url: str):
    """A merchant whose endpoint is `url` (the test settings accept local receivers)."""
    merchant = make_merchant()
    return merchant_webhook_url_set(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, url=url)


def _deliveries(merchant_id: str) -> list:
    return webhook_delivery_list_for_merchant(merchant_id=merchant_id, limit=100).items


def _raw_items(table_base: str) -> list[dict]:
    config = dynamodb._config()
    client = boto3.client("dynamodb", endpoint_url=config["ENDPOINT"], region_name=config["REGION"])
    return client.scan(TableName=dynamodb.table_name(table_base))["Items"]


# --- events written with the change ----------------------------------------------------------


def test_a_payment_with_a_webhook_url_writes_one_pending_event(deferred_tasks, dynamodb_backend):
    merchant = _merchant_with_url(PUBLIC_URL)

    payment = make_payment(merchant.merchant_id)

    [delivery] = _deliveries(merchant.merchant_id)
    assert (delivery.event_type, delivery.entity_id, delivery.status) == (
        WebhookEventType.PAYMENT_SUCCEEDED,
        payment.payment_id,
        DeliveryStatus.PENDING,
    )
    assert delivery.url == PUBLIC_URL and delivery.attempts == [] and delivery.created == payment.created
    assert delivery.expires_at == (delivery.created + timedelta(days=30)).replace(microsecond=0)  # TTL: unix seconds
    payload = json.loads(delivery.payload)
    assert payload == {
        "id": delivery.event_id,
        "object": "event",
        "type": "payment.succeeded",
        "created": payment_object(payment)["created"],
        "data": {
            "object": payment_object(
                selectors.payment_get(merchant_id=merchant.merchant_id, payment_id=payment.payment_id)
            )
        },
    }
    assert delivery.event_id.startswith("evt_")
    [queued] = deferred_tasks.results
    assert queued.args == [merchant.merchant_id, delivery.event_id, 0] and queued.task.run_after is None


def test_a_merchant_without_a_webhook_url_gets_no_event(deferred_tasks, dynamodb_backend):
    merchant = make_merchant()

    make_payment(merchant.merchant_id)

    assert _deliveries(merchant.merchant_id) == []
    assert deferred_tasks.results == []


def test_each_payment_change_writes_its_event_type(deferred_tasks, dynamodb_backend):
    merchant = _merchant_with_url(PUBLIC_URL)
    mid = merchant.merchant_id

    captured = make_payment(mid, capture=False)
    assert webhook_delivery_list_for_entity(merchant_id=mid, entity_id=captured.payment_id) == []
    services.payment_capture(merchant_id=mid, payment_id=captured.payment_id, actor=TEST_ACTOR)
    services.refund_create(merchant_id=mid, payment_id=captured.payment_id, actor=TEST_ACTOR, amount=500)
    services.refund_create(merchant_id=mid, payment_id=captured.payment_id, actor=TEST_ACTOR)
    canceled = make_payment(mid, capture=False)
    services.payment_cancel(merchant_id=mid, payment_id=canceled.payment_id, actor=TEST_ACTOR)
    with pytest.raises(CardDeclined) as declined:
        make_payment(mid, card=card("4000000000000002"))

    def types(entity_id):
        deliveries = webhook_delivery_list_for_entity(merchant_id=mid, entity_id=entity_id)
        return [d.event_type for d in reversed(deliveries)]

    assert types(captured.payment_id) == [
        WebhookEventType.PAYMENT_SUCCEEDED,
        WebhookEventType.PAYMENT_REFUNDED,
        WebhookEventType.PAYMENT_REFUNDED,
    ]
    assert types(canceled.payment_id) == [WebhookEventType.PAYMENT_CANCELED]
    assert types(declined.value.extensions["payment_id"]) == [WebhookEventType.PAYMENT_FAILED]
    last_refund = webhook_delivery_list_for_entity(merchant_id=mid, entity_id=captured.payment_id)[0]
    assert json.loads(last_refund.payload)["data"]["object"]["status"] == PaymentStatus.REFUNDED
    assert json.loads(last_refund.payload)["data"]["object"]["amount_refunded"] == 2500
    assert len(deferred_tasks.results) == 5  # capture, two refunds, cancel, decline


def test_a_failed_transaction_writes_no_event(deferred_tasks, dynamodb_backend):
    merchant = _merchant_with_url(PUBLIC_URL)

    def failing(transaction, outcome):
        transaction.condition_check(Merchant, merchant.merchant_id, condition=Merchant.name == "someone else")

    with pytest.raises(TransactWriteError):
        make_payment(merchant.merchant_id, also_in_transaction=failing)

    assert _deliveries(merchant.merchant_id) == []
    assert deferred_tasks.results == []


def test_events_are_listed_by_merchant_newest_first_and_only_their_own(deferred_tasks, dynamodb_backend):
    merchant, other = _merchant_with_url(PUBLIC_URL), _merchant_with_url(PUBLIC_URL)
    payments = [make_payment(merchant.merchant_id) for _ in range(3)]
    theirs = make_payment(other.merchant_id)

    first = webhook_delivery_list_for_merchant(merchant_id=merchant.merchant_id, limit=2)
    second = webhook_delivery_list_for_merchant(
        merchant_id=merchant.merchant_id, limit=2, starting_after=first.next_cursor
    )

    assert [d.entity_id for d in first.items + second.items] == [p.payment_id for p in reversed(payments)]
    assert first.has_more and not second.has_more
    assert webhook_delivery_list_for_entity(merchant_id=merchant.merchant_id, entity_id=theirs.payment_id) == []


# --- delivery ----------------------------------------------------------------------------------


def test_the_event_reaches_a_local_endpoint_with_a_signature_that_verifies(receiver, dynamodb_backend):
    merchant = _merchant_with_url(receiver.url)

    payment = make_payment(merchant.merchant_id)  # the test settings run tasks at once

    [request] = receiver.requests
    [delivery] = _deliveries(merchant.merchant_id)
    assert request["path"] == "/hooks"
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["body"] == delivery.payload.encode()
    secret = merchant_webhook_secret_reveal(merchant=merchant_get(merchant_id=merchant.merchant_id))
    signed_at = webhook_signature_verify(
        secret=secret, body=request["body"], header=request["headers"][SIGNATURE_HEADER]
    )
    assert signed_at == int(delivery.attempts[0].at.timestamp())
    assert json.loads(request["body"])["data"]["object"]["id"] == payment.payment_id
    assert (
        delivery.status == DeliveryStatus.DELIVERED
        and delivery.delivered_at is not None
        and delivery.next_attempt_at is None
    )
    assert [(a.status_code, a.error) for a in delivery.attempts] == [(200, None)]


def test_a_500_records_the_attempt_and_schedules_a_retry_30_seconds_later(receiver, deferred_tasks, dynamodb_backend):
    merchant = _merchant_with_url(receiver.url)
    receiver.statuses = [500, 503]
    make_payment(merchant.merchant_id)
    [event] = _deliveries(merchant.merchant_id)
    first_try = event.created + timedelta(seconds=1)

    webhook_delivery_run(merchant_id=merchant.merchant_id, event_id=event.event_id, attempt=0, now=first_try)

    delivery = webhook_delivery_get(merchant_id=merchant.merchant_id, event_id=event.event_id)
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempt_count == 1
    assert [(a.at, a.status_code, a.error) for a in delivery.attempts] == [(first_try, 500, "HTTP 500")]
    assert delivery.next_attempt_at == first_try + timedelta(seconds=30)
    retry = deferred_tasks.results[-1]
    assert retry.args == [merchant.merchant_id, event.event_id, 1]
    assert retry.task.run_after == first_try + timedelta(seconds=30)

    second_try = delivery.next_attempt_at
    webhook_delivery_run(merchant_id=merchant.merchant_id, event_id=event.event_id, attempt=1, now=second_try)

    delivery = webhook_delivery_get(merchant_id=merchant.merchant_id, event_id=event.event_id)
    assert [a.status_code for a in delivery.attempts] == [500, 503]
    assert delivery.next_attempt_at == second_try + timedelta(seconds=60)
    assert deferred_tasks.results[-1].task.run_after == second_try + timedelta(seconds=60)
    assert len(receiver.requests) == 2


def test_the_backoff_doubles_from_30_seconds_up_to_an_hour():
    delays = [webhook_retry_delay(failed_attempts=n).total_seconds() for n in range(1, 10)]

    assert delays == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_after_24_hours_a_failing_event_is_marked_failed(receiver, deferred_tasks, dynamodb_backend):
    merchant = _merchant_with_url(receiver.url)
    receiver.statuses = [500, 500]
    make_payment(merchant.merchant_id)
    [event] = _deliveries(merchant.merchant_id)
    mid, eid = merchant.merchant_id, event.event_id

    webhook_delivery_run(merchant_id=mid, event_id=eid, attempt=0, now=event.created + timedelta(hours=23, minutes=59))
    still_pending = webhook_delivery_get(merchant_id=mid, event_id=eid)
    queued = len(deferred_tasks.results)
    webhook_delivery_run(
        merchant_id=mid, event_id=eid, attempt=1, now=event.created + timedelta(hours=23, minutes=59, seconds=40)
    )

    failed = webhook_delivery_get(merchant_id=mid, event_id=eid)
    assert still_pending.status == DeliveryStatus.PENDING
    assert still_pending.next_attempt_at == event.created + timedelta(hours=23, minutes=59, seconds=30)
    assert failed.status == DeliveryStatus.FAILED and failed.next_attempt_at is None
    assert [a.status_code for a in failed.attempts] == [500, 500]
    assert len(deferred_tasks.results) == queued  # nothing more is scheduled
    assert webhook_delivery_run(merchant_id=mid, event_id=eid, attempt=2) is None
    assert len(receiver.requests) == 2


def test_a_task_that_runs_twice_sends_once(receiver, deferred_tasks, dynamodb_backend):
    merchant = _merchant_with_url(receiver.url)
    make_payment(merchant.merchant_id)
    [event] = _deliveries(merchant.merchant_id)

    first = webhook_delivery_run(merchant_id=merchant.merchant_id, event_id=event.event_id, attempt=0)
    second = webhook_delivery_run(merchant_id=merchant.merchant_id, event_id=event.event_id, attempt=0)

    assert first is not None and first.status == DeliveryStatus.DELIVERED
    assert second is None
    assert len(receiver.requests) == 1


@pytest.fixture
def refusing_url():
    """A URL on 127.0.0.1 whose port refuses connections for as long as the test runs: the port is
    bound and never listened on, so no other test (another worker) can start listening on it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as bound:
        bound.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{bound.getsockname()[1]}/hook"


def test_an_unreachable_endpoint_records_the_error(refusing_url, deferred_tasks, dynamodb_backend):
    merchant = _merchant_with_url(refusing_url)
    make_payment(merchant.merchant_id)
    [event] = _deliveries(merchant.merchant_id)

    webhook_delivery_run(merchant_id=merchant.merchant_id, event_id=event.event_id, attempt=0)

    delivery = webhook_delivery_get(merchant_id=merchant.merchant_id, event_id=event.event_id)
    assert [(a.status_code, a.error) for a in delivery.attempts] == [(None, "ConnectionError")]
    assert delivery.status == DeliveryStatus.PENDING and delivery.next_attempt_at is not None


def test_removing_the_url_stops_pending_deliveries(deferred_tasks, dynamodb_backend):
    merchant = _merchant_with_url(PUBLIC_URL)
    make_payment(merchant.merchant_id)
    [event] = _deliveries(merchant.merchant_id)

    merchant_webhook_url_set(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, url="")
    webhook_delivery_run(merchant_id=merchant.merchant_id, event_id=event.event_id, attempt=0)

    delivery = webhook_delivery_get(merchant_id=merchant.merchant_id, event_id=event.event_id)
    assert delivery.status == DeliveryStatus.FAILED
    assert [(a.status_code, a.error) for a in delivery.attempts] == [(None, "webhook_url_removed")]


# --- the merchant's endpoint and secret --------------------------------------------------------


def test_a_rotated_secret_signs_the_next_delivery_and_never_appears_in_logs_or_audit(
    receiver, caplog, dynamodb_backend
):
    caplog.set_level("DEBUG")
    merchant = _merchant_with_url(receiver.url)
    old_secret = merchant_webhook_secret_reveal(merchant=merchant)

    new_secret = merchant_webhook_secret_rotate(merchant_id=merchant.merchant_id, actor=TEST_ACTOR)
    make_payment(merchant.merchant_id)

    [request] = receiver.requests
    header = request["headers"][SIGNATURE_HEADER]
    assert new_secret.startswith("whsec_") and new_secret != old_secret
    webhook_signature_verify(secret=new_secret, body=request["body"], header=header)
    with pytest.raises(ValueError):
        webhook_signature_verify(secret=old_secret, body=request["body"], header=header)
    stored = json.dumps(_raw_items("audit_events") + _raw_items("merchants") + _raw_items("webhook_deliveries"))
    for secret in (old_secret, new_secret):
        assert secret not in caplog.text
        assert secret not in stored
    assert header not in caplog.text
    actions = [e.action for e in selectors_audit(merchant.merchant_id)]
    assert "merchant.webhook_secret.rotate" in actions and "merchant.webhook_url.update" in actions


def selectors_audit(merchant_id: str) -> list:
    from audit.models import AuditEvent

    return list(AuditEvent.query(merchant_id))


@pytest.mark.parametrize(
    ("url", "development", "accepted"),
    [
        ("https://hooks.example.com/x", False, True),
        ("http://hooks.example.com/x", False, False),
        ("http://hooks.example.com/x", True, False),
        ("http://127.0.0.1:9000/x", False, False),
        ("http://localhost:9000/x", True, True),
        ("http://127.0.0.1:9000/x", True, True),
        ("https://127.0.0.1/x", False, False),
        ("https://10.0.0.5/x", False, False),
        ("https://169.254.169.254/latest", False, False),
        ("https://user:pass@hooks.example.com/x", False, False),
        ("ftp://hooks.example.com/x", False, False),
        ("not a url", False, False),
    ],
)
def test_webhook_urls_must_be_https_except_local_receivers_in_development(url, development, accepted, dynamodb_backend):
    from core.errors import ValidationFailed

    merchant = make_merchant()

    with override_settings(WEBHOOK_ALLOW_PRIVATE_URLS=development):
        if accepted:
            updated = merchant_webhook_url_set(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, url=url)
            assert updated.webhook_url == url
        else:
            with pytest.raises(ValidationFailed) as error:
                merchant_webhook_url_set(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, url=url)
            assert error.value.param == "webhook_url"
            assert error.value.code in {"invalid_webhook_url", "webhook_url_not_public"}


def test_setting_and_removing_the_url_is_audited(dynamodb_backend):
    merchant = make_merchant()

    merchant_webhook_url_set(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, url=PUBLIC_URL)
    removed = merchant_webhook_url_set(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, url=None)

    assert removed.webhook_url is None
    events = [e for e in selectors_audit(merchant.merchant_id) if e.action == "merchant.webhook_url.update"]
    assert [(e.before, e.after) for e in events] == [
        ({"webhook_url": None}, {"webhook_url": PUBLIC_URL}),
        ({"webhook_url": PUBLIC_URL}, {"webhook_url": None}),
    ]


# --- recovering lost attempts ------------------------------------------------------------------


def test_the_sweep_queues_overdue_attempts_again_and_only_those(receiver, deferred_tasks, dynamodb_backend):
    from io import StringIO

    from django.core.management import call_command

    from webhooks.tasks import webhook_deliveries_sweep

    merchant = _merchant_with_url(receiver.url)
    receiver.statuses = [500]
    failing, done = (
        webhook_delivery_list_for_entity(merchant_id=merchant.merchant_id, entity_id=p.payment_id)[0]
        for p in (make_payment(merchant.merchant_id), make_payment(merchant.merchant_id))
    )
    webhook_delivery_run(merchant_id=merchant.merchant_id, event_id=failing.event_id, attempt=0, now=failing.created)
    webhook_delivery_run(merchant_id=merchant.merchant_id, event_id=done.event_id, attempt=0)
    due = failing.created + timedelta(seconds=30)
    queued = len(deferred_tasks.results)

    not_yet = webhook_deliveries_sweep(merchant_id=merchant.merchant_id, now=due + timedelta(minutes=1))
    overdue = webhook_deliveries_sweep(now=due + timedelta(minutes=6))

    assert (not_yet, overdue) == (0, 1)
    [requeued] = deferred_tasks.results[queued:]
    assert requeued.args == [merchant.merchant_id, failing.event_id, 1] and requeued.task.run_after is None
    out = StringIO()
    call_command("webhooks", "list", "--merchant", merchant.merchant_id, stdout=out)
    assert "payment.succeeded" in out.getvalue() and "last=HTTP 500" in out.getvalue() and "delivered" in out.getvalue()


# --- where a delivery may go (egress) ----------------------------------------------------------


@pytest.fixture
def network(monkeypatch):
    return FakeNetwork(monkeypatch)


@pytest.fixture
def listener():
    endpoint = CountingListener()
    yield endpoint
    endpoint.close()


def _pending_event(url: str) -> tuple[str, str]:
    """A merchant whose endpoint `url` was saved under the production rules, and its first event,
    not attempted yet (use with `deferred_tasks`)."""
    with override_settings(WEBHOOK_ALLOW_PRIVATE_URLS=False):
        merchant = _merchant_with_url(url)
    make_payment(merchant.merchant_id)
    [event] = _deliveries(merchant.merchant_id)
    return merchant.merchant_id, event.event_id


@pytest.mark.parametrize(
    "answer",
    [["127.0.0.1"], ["10.0.0.1"], ["93.184.216.34", "10.0.0.1"], ["::1"], ["64:ff9b::7f00:1"], ["169.254.169.254"]],
)
def test_a_name_resolving_to_a_non_public_address_is_refused_at_delivery_without_connecting(
    answer, network, listener, deferred_tasks, dynamodb_backend
):
    port = network.watch(listener.port)
    mid, eid = _pending_event(f"https://hooks.example.com:{port}/hook")  # does not resolve when saved
    network.answer("hooks.example.com", answer)
    queued = len(deferred_tasks.results)

    with override_settings(WEBHOOK_ALLOW_PRIVATE_URLS=False):
        webhook_delivery_run(merchant_id=mid, event_id=eid, attempt=0)

    assert network.connects == [] and listener.accepted == 0
    delivery = webhook_delivery_get(merchant_id=mid, event_id=eid)
    assert delivery.status == DeliveryStatus.REFUSED and delivery.next_attempt_at is None
    assert [(a.status_code, a.error) for a in delivery.attempts] == [
        (None, "refused: the host resolves to something other than a public address")
    ]
    assert len(deferred_tasks.results) == queued  # a refusal is final: no retry is queued
    assert webhook_delivery_run(merchant_id=mid, event_id=eid, attempt=1) is None


@pytest.mark.parametrize("host", ["127.1", "0x7f.1", "2130706433", "0177.0.0.1", "[::ffff:127.0.0.1]", "localhost"])
def test_a_url_stored_before_the_rules_is_refused_at_delivery_in_any_notation(
    host, network, listener, deferred_tasks, dynamodb_backend
):
    port = network.watch(listener.port)
    mid, eid = _pending_event(PUBLIC_URL)
    # written as it might have been before the URL rules: straight to the table
    Merchant.get(mid).update(actions=[Merchant.webhook_url.set(f"https://{host}:{port}/hook")])

    with override_settings(WEBHOOK_ALLOW_PRIVATE_URLS=False):
        webhook_delivery_run(merchant_id=mid, event_id=eid, attempt=0)

    assert network.connects == [] and listener.accepted == 0
    delivery = webhook_delivery_get(merchant_id=mid, event_id=eid)
    assert delivery.status == DeliveryStatus.REFUSED
    [attempt] = delivery.attempts
    assert attempt.status_code is None and attempt.error.startswith("refused: ")


def test_the_name_is_resolved_once_and_the_connection_goes_to_the_checked_address(
    network, listener, deferred_tasks, dynamodb_backend
):
    port = network.watch(listener.port)
    mid, eid = _pending_event(f"https://hooks.example.com:{port}/hook")
    network.answer("hooks.example.com", ["93.184.216.34"], ["127.0.0.1"])  # a second lookup would get loopback

    with override_settings(WEBHOOK_ALLOW_PRIVATE_URLS=False):
        webhook_delivery_run(merchant_id=mid, event_id=eid, attempt=0)

    assert network.lookups == ["hooks.example.com"]
    assert network.connects == [("93.184.216.34", port)] and listener.accepted == 0
    delivery = webhook_delivery_get(merchant_id=mid, event_id=eid)
    assert [(a.status_code, a.error) for a in delivery.attempts] == [(None, "ConnectionError")]
    assert delivery.status == DeliveryStatus.PENDING  # an unreachable public endpoint is retried


def test_plain_http_is_refused_at_delivery_outside_development(receiver, deferred_tasks, dynamodb_backend):
    merchant = _merchant_with_url(receiver.url)
    make_payment(merchant.merchant_id)
    [event] = _deliveries(merchant.merchant_id)

    with override_settings(WEBHOOK_ALLOW_PRIVATE_URLS=False):
        webhook_delivery_run(merchant_id=merchant.merchant_id, event_id=event.event_id, attempt=0)

    delivery = webhook_delivery_get(merchant_id=merchant.merchant_id, event_id=event.event_id)
    assert receiver.requests == []
    assert delivery.status == DeliveryStatus.REFUSED
    assert [a.error for a in delivery.attempts] == ["refused: plain http is not allowed"]


def test_a_redirect_is_not_followed(receiver, deferred_tasks, dynamodb_backend):
    elsewhere = Receiver()
    receiver.statuses, receiver.location = [302], elsewhere.url
    merchant = _merchant_with_url(receiver.url)
    make_payment(merchant.merchant_id)
    [event] = _deliveries(merchant.merchant_id)

    try:
        webhook_delivery_run(merchant_id=merchant.merchant_id, event_id=event.event_id, attempt=0)
    finally:
        elsewhere.close()

    assert len(receiver.requests) == 1 and elsewhere.requests == []
    delivery = webhook_delivery_get(merchant_id=merchant.merchant_id, event_id=event.event_id)
    assert [(a.status_code, a.error) for a in delivery.attempts] == [(302, "HTTP 302")]


def test_only_the_first_64_kb_of_an_answer_are_read(deferred_tasks, dynamodb_backend):
    endpoint = HugeAnswerEndpoint(body_bytes=64 * 1024 * 1024)
    try:
        merchant = _merchant_with_url(f"http://127.0.0.1:{endpoint.port}/hooks")
        make_payment(merchant.merchant_id)
        [event] = _deliveries(merchant.merchant_id)

        webhook_delivery_run(merchant_id=merchant.merchant_id, event_id=event.event_id, attempt=0)

        assert endpoint.done.wait(timeout=10)
    finally:
        endpoint.close()

    delivery = webhook_delivery_get(merchant_id=merchant.merchant_id, event_id=event.event_id)
    assert [(a.status_code, a.error) for a in delivery.attempts] == [(200, None)]
    assert delivery.status == DeliveryStatus.DELIVERED
    # The connection closed after 64 KB; what the endpoint got out is that plus the kernel's buffers.
    assert endpoint.requests == 1 and endpoint.sent < 16 * 1024 * 1024
