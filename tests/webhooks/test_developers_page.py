"""The Developers page manages webhook endpoints (add, edit events, disable, delete, send a test event),
filters the delivery log and resends a delivery; an endpoint failing for 3 days is disabled."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse

from audit.selectors import audit_event_list_for_entity
from core.ids import now
from tests.factories import TEST_ACTOR, make_payment, make_user
from tests.webhooks.test_services import Receiver
from webhooks.endpoints import AUTO_DISABLE_AFTER, webhook_endpoint_create, webhook_endpoint_outcome
from webhooks.selectors import webhook_delivery_list_for_merchant, webhook_endpoint_get, webhook_endpoint_list

DEV = reverse("developers:developers")


@pytest.fixture
def receiver():
    endpoint = Receiver()
    yield endpoint
    endpoint.close()


def _endpoint(merchant, url, events=("*",)):
    endpoint, _ = webhook_endpoint_create(
        merchant_id=merchant.merchant_id, actor=TEST_ACTOR, url=url, events=list(events)
    )
    return endpoint


def test_admin_edits_events_disables_enables_and_deletes_an_endpoint(as_role, merchant):
    client = as_role("admin")
    endpoint = _endpoint(merchant, "https://hooks.example.com/a")
    edit = reverse("developers:endpoint-edit", args=[endpoint.endpoint_id])

    form = client.get(edit)
    saved = client.post(edit, {"url": "https://hooks.example.com/b", "events": ["payment.refunded"]})
    disabled = client.post(reverse("developers:endpoint-disable", args=[endpoint.endpoint_id]), {"disabled": "1"})
    after_disable = webhook_endpoint_get(merchant_id=merchant.merchant_id, endpoint_id=endpoint.endpoint_id)
    client.post(reverse("developers:endpoint-disable", args=[endpoint.endpoint_id]), {"disabled": "0"})
    ask = client.post(reverse("developers:endpoint-delete", args=[endpoint.endpoint_id]))
    deleted = client.post(reverse("developers:endpoint-delete", args=[endpoint.endpoint_id]), {"confirm": "yes"})

    assert form.status_code == 200 and b"https://hooks.example.com/a" in form.content
    assert saved.status_code == 302 and disabled.status_code == 302 and after_disable.disabled is True
    assert b"Delete the endpoint https://hooks.example.com/b?" in ask.content
    assert deleted.status_code == 302 and webhook_endpoint_list(merchant_id=merchant.merchant_id) == []
    actions = sorted(
        e.action for e in audit_event_list_for_entity(merchant_id=merchant.merchant_id, entity_id=endpoint.endpoint_id)
    )
    assert actions == ["webhook_endpoint.create", "webhook_endpoint.delete"] + ["webhook_endpoint.update"] * 3


def test_an_edit_with_a_bad_url_shows_the_error_on_the_field(as_role, merchant):
    client = as_role("admin")
    endpoint = _endpoint(merchant, "https://hooks.example.com/a")

    response = client.post(
        reverse("developers:endpoint-edit", args=[endpoint.endpoint_id]),
        {"url": "ftp://hooks.example.com/a", "events": ["*"]},
    )

    assert response.status_code == 422 and b"must use https" in response.content


def test_send_test_event_reaches_the_receiver_and_the_log_filters_and_resends(as_role, merchant, receiver):
    client = as_role("admin")
    endpoint = _endpoint(merchant, receiver.url)
    other = _endpoint(merchant, "https://hooks.example.com/other", events=["payment.failed"])

    sent = client.post(reverse("developers:endpoint-test", args=[endpoint.endpoint_id]), follow=True)
    make_payment(merchant.merchant_id)
    pings = client.get(DEV, {"event_type": "ping"})
    to_other = client.get(reverse("developers:delivery-log"), {"endpoint": other.endpoint_id}, HTTP_HX_REQUEST="true")
    [ping] = webhook_delivery_list_for_merchant(merchant_id=merchant.merchant_id, event_type="ping").items
    resent = client.post(reverse("developers:delivery-resend", args=[ping.event_id]), follow=True)

    assert b"Test event sent to" in sent.content and len(receiver.requests) == 3
    assert [d.event_type for d in pings.context["deliveries"]] == ["ping"]
    assert to_other.content.decode().lstrip().startswith('<section id="delivery-log"')
    assert b"No webhook deliveries match." in to_other.content
    assert b"sent again: delivered" in resent.content
    assert (
        len(webhook_delivery_list_for_merchant(merchant_id=merchant.merchant_id, event_type="ping").items[0].attempts)
        == 2
    )


def test_an_endpoint_failing_for_three_days_is_disabled_audited_and_the_admins_emailed(db, merchant, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    admin = make_user(merchant_id=merchant.merchant_id, role="admin")
    admin.email = "admin@example.com"
    admin.save()
    endpoint = _endpoint(merchant, "https://hooks.example.com/down")
    start = now()

    webhook_endpoint_outcome(endpoint=endpoint, ok=False, at=start)
    endpoint = webhook_endpoint_get(merchant_id=merchant.merchant_id, endpoint_id=endpoint.endpoint_id)
    early = webhook_endpoint_outcome(endpoint=endpoint, ok=False, at=start + AUTO_DISABLE_AFTER - timedelta(hours=1))
    late = webhook_endpoint_outcome(endpoint=endpoint, ok=False, at=start + AUTO_DISABLE_AFTER)

    stored = webhook_endpoint_get(merchant_id=merchant.merchant_id, endpoint_id=endpoint.endpoint_id)
    assert (early, late, stored.disabled) == (False, True, True)
    actions = [
        e.action for e in audit_event_list_for_entity(merchant_id=merchant.merchant_id, entity_id=endpoint.endpoint_id)
    ]
    assert "webhook_endpoint.auto_disable" in actions
    assert [m.to for m in mail.outbox] == [["admin@example.com"]] and endpoint.url in mail.outbox[0].body


def test_a_success_ends_the_run_of_failures(db, merchant):
    endpoint = _endpoint(merchant, "https://hooks.example.com/flaky")
    start = now()
    webhook_endpoint_outcome(endpoint=endpoint, ok=False, at=start)
    endpoint = webhook_endpoint_get(merchant_id=merchant.merchant_id, endpoint_id=endpoint.endpoint_id)

    webhook_endpoint_outcome(endpoint=endpoint, ok=True, at=start + timedelta(days=1))
    endpoint = webhook_endpoint_get(merchant_id=merchant.merchant_id, endpoint_id=endpoint.endpoint_id)
    cleared = endpoint.failing_since is None
    disabled = webhook_endpoint_outcome(endpoint=endpoint, ok=False, at=start + AUTO_DISABLE_AFTER)

    assert cleared and disabled is False
