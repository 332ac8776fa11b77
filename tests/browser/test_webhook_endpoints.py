"""Webhook endpoints in a real browser: add one pointing at a local receiver, send a test event, see
it in the delivery log, rotate the secret and verify both signatures of the next delivery."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.factories import make_merchant, make_user
from tests.webhooks.test_services import Receiver
from webhooks.signing import SIGNATURE_HEADER, webhook_signature_verify

pytestmark = pytest.mark.browser


@pytest.fixture
def receiver():
    endpoint = Receiver()
    yield endpoint
    endpoint.close()


def test_add_an_endpoint_send_a_test_event_rotate_and_verify_both_signatures(
    page, live_server, sign_in, receiver, screenshot, transactional_db, dynamodb_backend
):
    merchant = make_merchant("Acme Outdoor")
    make_user("ada", merchant_id=merchant.merchant_id, role="admin")
    sign_in("ada")
    page.goto(f"{live_server.url}/developers/")

    page.get_by_label("Endpoint URL").fill(receiver.url)
    page.get_by_label("All events").check()
    page.get_by_role("button", name="Add endpoint").click()
    first_secret = page.locator("#new-webhook-secret").input_value()
    page.get_by_role("button", name="Send test event").click()
    expect(page.get_by_text("Test event sent to")).to_be_visible()
    expect(page.get_by_test_id("deliveries")).to_contain_text("ping")
    page.get_by_role("button", name="Rotate secret").click()
    page.get_by_role("button", name="Yes, rotate").click()
    new_secret = page.locator("#new-webhook-secret").input_value()
    screenshot("webhook-endpoints")
    page.get_by_role("button", name="Send test event").click()

    assert first_secret.startswith("whsec_") and new_secret.startswith("whsec_") and new_secret != first_secret
    assert len(receiver.requests) == 2
    last = receiver.requests[-1]
    for secret in (new_secret, first_secret):
        webhook_signature_verify(secret=secret, body=last["body"], header=last["headers"][SIGNATURE_HEADER])
