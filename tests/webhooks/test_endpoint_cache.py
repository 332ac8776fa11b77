"""The event path's per-process view of a merchant's webhook endpoints
(`WEBHOOK_ENDPOINTS_CACHE_SECONDS`): events within the window read no endpoints, a change made in
this process applies to the next event at once, and one made elsewhere once the window has passed."""

from datetime import timedelta

import pytest

from core.actor import SYSTEM
from core.ids import now
from merchants.models import Merchant
from tests.factories import TEST_ACTOR, make_merchant
from webhooks import selectors
from webhooks.endpoints import webhook_endpoint_create, webhook_endpoint_update
from webhooks.models import WebhookEndpoint
from webhooks.services import webhook_event_new

URL = "https://hooks.example.com/in"


@pytest.fixture
def cached(settings):
    settings.WEBHOOK_ENDPOINTS_CACHE_SECONDS = 60
    selectors.webhook_endpoints_forget()
    yield
    selectors.webhook_endpoints_forget()


@pytest.fixture
def reads(monkeypatch):
    """Every read of a merchant's endpoints from DynamoDB, by merchant id."""
    seen: list[str] = []
    real = selectors.webhook_endpoint_list

    def counted(*, merchant_id: str, consistent: bool = True):
        seen.append(merchant_id)
        return real(merchant_id=merchant_id, consistent=consistent)

    monkeypatch.setattr(selectors, "webhook_endpoint_list", counted)
    return seen


def _targets(merchant_id: str) -> list[str]:
    event = webhook_event_new(
        merchant_id=merchant_id, event_type="payment.succeeded", entity_id="pay_x", data_object={}, at=now()
    )
    return [target.split(" ", 1)[0] for target in event.fanout or []]


def test_events_within_the_window_read_the_endpoints_once(cached, reads, dynamodb_backend):
    merchant = make_merchant()
    endpoint, _ = webhook_endpoint_create(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, url=URL, events=["*"])

    assert [_targets(merchant.merchant_id) for _ in range(3)] == [[endpoint.endpoint_id]] * 3
    assert reads == [merchant.merchant_id]


def test_a_change_made_in_this_process_applies_to_the_next_event(cached, reads, dynamodb_backend):
    merchant = make_merchant()
    first, _ = webhook_endpoint_create(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, url=URL, events=["*"])
    assert _targets(merchant.merchant_id) == [first.endpoint_id]

    second, _ = webhook_endpoint_create(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, url=URL, events=["*"])
    assert sorted(_targets(merchant.merchant_id)) == sorted([first.endpoint_id, second.endpoint_id])

    webhook_endpoint_update(
        merchant_id=merchant.merchant_id, endpoint_id=first.endpoint_id, actor=SYSTEM, disabled=True
    )
    assert _targets(merchant.merchant_id) == [second.endpoint_id]
    assert len(reads) == 3  # one read after each change, none for the events between


def test_a_change_made_elsewhere_applies_once_the_window_has_passed(cached, reads, monkeypatch, dynamodb_backend):
    merchant = make_merchant()
    endpoint, _ = webhook_endpoint_create(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, url=URL, events=["*"])
    assert _targets(merchant.merchant_id) == [endpoint.endpoint_id]
    # Another process disables it: the item changes, this process's view does not.
    WebhookEndpoint.get(merchant.merchant_id, endpoint.endpoint_id).update(actions=[WebhookEndpoint.disabled.set(True)])
    assert _targets(merchant.merchant_id) == [endpoint.endpoint_id]

    later = selectors.time.monotonic() + timedelta(seconds=61).total_seconds()
    monkeypatch.setattr(selectors.time, "monotonic", lambda: later)
    assert _targets(merchant.merchant_id) == []
    assert reads == [merchant.merchant_id, merchant.merchant_id]


def test_a_merchant_made_again_under_the_same_id_has_its_own_endpoints(cached, reads, dynamodb_backend):
    merchant = make_merchant()
    endpoint, _ = webhook_endpoint_create(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, url=URL, events=["*"])
    assert _targets(merchant.merchant_id) == [endpoint.endpoint_id]
    # The tables emptied and the merchant made again with the same id (a test run, a restored demo).
    WebhookEndpoint.get(merchant.merchant_id, endpoint.endpoint_id).delete()
    Merchant.get(merchant.merchant_id).update(actions=[Merchant.created.set(now() + timedelta(seconds=1))])

    assert _targets(merchant.merchant_id) == []
    assert reads == [merchant.merchant_id, merchant.merchant_id]


def test_with_no_window_every_event_reads_the_endpoints(settings, reads, dynamodb_backend):
    settings.WEBHOOK_ENDPOINTS_CACHE_SECONDS = 0
    merchant = make_merchant()
    webhook_endpoint_create(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, url=URL, events=["*"])

    _targets(merchant.merchant_id)
    _targets(merchant.merchant_id)
    assert reads == [merchant.merchant_id, merchant.merchant_id]


def test_a_read_overtaken_by_a_change_in_this_process_is_not_kept(cached, monkeypatch, dynamodb_backend):
    merchant = make_merchant()
    first, _ = webhook_endpoint_create(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, url=URL, events=["*"])
    real = selectors.webhook_endpoint_list
    seen: list[str] = []

    def read_then_changed(*, merchant_id: str, consistent: bool = True):
        endpoints = real(merchant_id=merchant_id, consistent=consistent)
        seen.append(merchant_id)
        if len(seen) == 1:  # another thread of this process disables the endpoint after this read
            webhook_endpoint_update(merchant_id=merchant_id, endpoint_id=first.endpoint_id, actor=SYSTEM, disabled=True)
        return endpoints

    monkeypatch.setattr(selectors, "webhook_endpoint_list", read_then_changed)

    assert _targets(merchant.merchant_id) == [first.endpoint_id]  # read before the change
    assert _targets(merchant.merchant_id) == []  # read again: the first read was not kept
    assert len(seen) == 2
