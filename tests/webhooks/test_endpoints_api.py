"""Webhook endpoints and events through the API (API.md, "Wave 2 additions"): several endpoints per
merchant, each with its event types and secret; fan-out; the Events API; rotation's two signatures."""

import json
from datetime import timedelta

import pytest
from django.test import override_settings

from audit.selectors import audit_event_list_for_entity
from core.ids import now
from merchants.selectors import merchant_get
from merchants.services.merchants import merchant_webhook_secret_reveal, merchant_webhook_url_set
from payments import services
from tests.factories import TEST_ACTOR, make_api_key, make_merchant, make_payment
from tests.webhooks.test_services import Receiver
from webhooks.models import Event
from webhooks.selectors import webhook_delivery_list_for_merchant, webhook_endpoint_list
from webhooks.signing import SIGNATURE_HEADER, webhook_signature_verify
from webhooks.tasks import webhook_delivery_run

pytestmark = pytest.mark.engine

PUBLIC = "https://hooks.example.com/in"


@pytest.fixture
def receiver():
    endpoint = Receiver()
    yield endpoint
    endpoint.close()


@pytest.fixture
def api(client):
    merchant = make_merchant()
    secret = make_api_key(merchant.merchant_id)

    def call(method, path, body=None):
        kwargs = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
        if body is not None:
            kwargs.update(data=json.dumps(body), content_type="application/json")
        return getattr(client, method)(f"/api/v1{path}", **kwargs)

    call.merchant = merchant
    return call


def _create(api, url=PUBLIC, events=("*",), **extra):
    return api("post", "/webhook-endpoints", {"url": url, "events": list(events), **extra})


def test_create_answers_201_with_the_secret_once_and_reads_never_show_it(api, dynamodb_backend):
    created = _create(api, events=["payment.succeeded"], description="orders")

    assert created.status_code == 201
    body = created.json()
    assert body["id"].startswith("we_") and body["object"] == "webhook_endpoint"
    assert (body["url"], body["events"], body["description"], body["disabled"]) == (
        PUBLIC,
        ["payment.succeeded"],
        "orders",
        False,
    )
    assert body["secret"].startswith("whsec_")
    fetched = api("get", f"/webhook-endpoints/{body['id']}")
    listed = api("get", "/webhook-endpoints")
    assert fetched.status_code == 200 and "secret" not in fetched.json()
    assert listed.json()["object"] == "list" and [e["id"] for e in listed.json()["data"]] == [body["id"]]
    assert "secret" not in listed.json()["data"][0]
    assert body["secret"] not in json.dumps(
        [e.after for e in audit_event_list_for_entity(merchant_id=api.merchant.merchant_id, entity_id=body["id"])]
    )


@pytest.mark.parametrize(
    "url", ["http://hooks.example.com/in", "ftp://hooks.example.com/in", "https://127.0.0.1/in", "not a url", ""]
)
def test_a_url_that_is_not_https_to_a_public_host_is_422_invalid_webhook_url(api, url, dynamodb_backend):
    with override_settings(WEBHOOK_ALLOW_PRIVATE_URLS=False):
        response = _create(api, url=url)

    assert response.status_code == 422
    assert (response.json()["code"], response.json()["param"]) == ("invalid_webhook_url", "url")
    assert webhook_endpoint_list(merchant_id=api.merchant.merchant_id) == []


def test_unknown_event_types_are_refused(api, dynamodb_backend):
    response = _create(api, events=["payment.teleported"])

    assert response.status_code == 422 and response.json()["param"] == "events"


def test_at_most_sixteen_endpoints(api, dynamodb_backend):
    for n in range(16):
        assert _create(api, url=f"{PUBLIC}/{n}").status_code == 201

    seventeenth = _create(api, url=f"{PUBLIC}/16")

    assert seventeenth.status_code == 422 and seventeenth.json()["code"] == "too_many_webhook_endpoints"


def test_update_delete_and_another_merchants_endpoint_is_404(api, client, dynamodb_backend):
    endpoint_id = _create(api).json()["id"]
    other_secret = make_api_key(make_merchant().merchant_id)

    updated = api("post", f"/webhook-endpoints/{endpoint_id}", {"events": ["payment.failed"], "disabled": True})
    foreign = client.get(f"/api/v1/webhook-endpoints/{endpoint_id}", HTTP_AUTHORIZATION=f"Bearer {other_secret}")
    foreign_delete = client.delete(
        f"/api/v1/webhook-endpoints/{endpoint_id}", HTTP_AUTHORIZATION=f"Bearer {other_secret}"
    )
    deleted = api("delete", f"/webhook-endpoints/{endpoint_id}")

    assert updated.status_code == 200
    assert (updated.json()["events"], updated.json()["disabled"], updated.json()["url"]) == (
        ["payment.failed"],
        True,
        PUBLIC,
    )
    assert (foreign.status_code, foreign_delete.status_code) == (404, 404)
    assert deleted.status_code == 200 and deleted.json() == {
        "id": endpoint_id,
        "object": "webhook_endpoint",
        "deleted": True,
    }
    assert api("get", f"/webhook-endpoints/{endpoint_id}").status_code == 404
    actions = [
        e.action for e in audit_event_list_for_entity(merchant_id=api.merchant.merchant_id, entity_id=endpoint_id)
    ]
    assert sorted(actions) == ["webhook_endpoint.create", "webhook_endpoint.delete", "webhook_endpoint.update"]


def test_an_event_goes_to_every_enabled_endpoint_subscribed_to_its_type(api, dynamodb_backend):
    everything = _create(api, url=f"{PUBLIC}/all").json()["id"]
    succeeded = _create(api, url=f"{PUBLIC}/ok", events=["payment.succeeded"]).json()["id"]
    _create(api, url=f"{PUBLIC}/refunds", events=["payment.refunded"])
    disabled = _create(api, url=f"{PUBLIC}/off").json()["id"]
    api("post", f"/webhook-endpoints/{disabled}", {"disabled": True})

    payment = make_payment(api.merchant.merchant_id)

    deliveries = webhook_delivery_list_for_merchant(merchant_id=api.merchant.merchant_id, limit=100).items
    assert sorted(d.endpoint_id for d in deliveries) == sorted([everything, succeeded])
    assert {d.evt_id for d in deliveries} == {json.loads(deliveries[0].payload)["id"]}
    assert all(json.loads(d.payload)["data"]["object"]["id"] == payment.payment_id for d in deliveries)


def test_the_events_api_lists_every_event_even_without_endpoints(api, dynamodb_backend):
    first = make_payment(api.merchant.merchant_id)
    second = make_payment(api.merchant.merchant_id)

    listed = api("get", "/events")
    page = api("get", "/events?limit=1")
    rest = api("get", f"/events?limit=1&starting_after={page.json()['next_cursor']}")
    one = api("get", f"/events/{listed.json()['data'][0]['id']}")

    assert listed.status_code == 200
    events = listed.json()["data"]
    assert [e["data"]["object"]["id"] for e in events] == [second.payment_id, first.payment_id]
    assert {e["type"] for e in events} == {"payment.succeeded"} and events[0]["object"] == "event"
    assert page.json()["has_more"] is True and len(page.json()["data"]) == 1
    assert [e["id"] for e in page.json()["data"] + rest.json()["data"]] == [e["id"] for e in events]
    assert rest.json()["has_more"] is False
    assert one.status_code == 200 and one.json() == events[0]
    assert webhook_delivery_list_for_merchant(merchant_id=api.merchant.merchant_id).items == []


def test_events_filter_by_type_and_time_and_are_merchant_scoped(api, client, dynamodb_backend):
    payment = make_payment(api.merchant.merchant_id)
    services.refund_create(merchant_id=api.merchant.merchant_id, payment_id=payment.payment_id, actor=TEST_ACTOR)
    other_secret = make_api_key(make_merchant().merchant_id)
    event_id = api("get", "/events").json()["data"][0]["id"]
    later = (now() + timedelta(minutes=1)).isoformat()

    refunds = api("get", "/events?type=payment.refunded")
    future = api("get", f"/events?created_gte={later.replace('+00:00', 'Z')}")
    past = api("get", f"/events?created_lt={later.replace('+00:00', 'Z')}")
    foreign = client.get(f"/api/v1/events/{event_id}", HTTP_AUTHORIZATION=f"Bearer {other_secret}")
    foreign_list = client.get("/api/v1/events", HTTP_AUTHORIZATION=f"Bearer {other_secret}")

    assert [e["type"] for e in refunds.json()["data"]] == ["payment.refunded"]
    assert future.json()["data"] == [] and len(past.json()["data"]) == 2
    assert foreign.status_code == 404 and foreign_list.json()["data"] == []
    assert api("get", "/events/evt_nope").status_code == 404


def test_an_expired_event_is_absent_even_before_dynamodb_deletes_it(api, dynamodb_backend):
    make_payment(api.merchant.merchant_id)
    event_id = api("get", "/events").json()["data"][0]["id"]
    event = Event.get(api.merchant.merchant_id, event_id)
    event.update(actions=[Event.expires_at.set(now() - timedelta(seconds=1))])

    assert api("get", "/events").json()["data"] == []
    assert api("get", f"/events/{event_id}").status_code == 404


def test_rotation_signs_with_both_secrets_for_a_day_and_ping_reaches_a_local_receiver(api, receiver, dynamodb_backend):
    created = _create(api, url=receiver.url).json()
    old_secret = created["secret"]

    rotated = api("post", f"/webhook-endpoints/{created['id']}/rotate-secret")
    ping = api("post", f"/webhook-endpoints/{created['id']}/test")

    assert rotated.status_code == 200 and rotated.json()["secret"] not in (old_secret, None)
    assert ping.status_code == 200 and ping.json()["status"] == "delivered" and ping.json()["type"] == "ping"
    [request] = receiver.requests
    header = request["headers"][SIGNATURE_HEADER]
    assert header.count("v1=") == 2
    for secret in (rotated.json()["secret"], old_secret):
        webhook_signature_verify(secret=secret, body=request["body"], header=header)
    assert json.loads(request["body"])["data"]["object"]["id"] == created["id"]
    assert api("get", "/events").json()["data"] == []  # a ping is not an event of the merchant


def test_the_wave_1_webhook_url_becomes_the_first_endpoint_with_its_secret_and_pending_deliveries(
    api, receiver, settings, dynamodb_backend
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    merchant_id = api.merchant.merchant_id
    merchant_webhook_url_set(merchant_id=merchant_id, actor=TEST_ACTOR, url=receiver.url)
    make_payment(merchant_id)  # pending, to the wave-1 URL
    secret = merchant_webhook_secret_reveal(merchant=merchant_get(merchant_id=merchant_id))

    listed = api("get", "/webhook-endpoints").json()["data"]
    again = api("get", "/webhook-endpoints").json()["data"]
    [pending] = webhook_delivery_list_for_merchant(merchant_id=merchant_id).items
    webhook_delivery_run(merchant_id=merchant_id, event_id=pending.event_id, attempt=0)

    assert [(e["url"], e["events"]) for e in listed] == [(receiver.url, ["*"])] and again == listed
    assert merchant_get(merchant_id=merchant_id).webhook_url is None
    [request] = receiver.requests
    webhook_signature_verify(secret=secret, body=request["body"], header=request["headers"][SIGNATURE_HEADER])
