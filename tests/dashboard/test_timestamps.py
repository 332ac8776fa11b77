"""Every page that shows a time shows it in the merchant's zone, with the zone, in one format:
"Nov 30, 2026, 14:05 JST" (lists and details; audit events and webhook deliveries with seconds)."""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse

from audit.selectors import audit_event_list
from core.actor import Actor
from customers.services import customer_create
from disputes import selectors as dispute_selectors
from merchants.services.settings import merchant_settings_update
from payments.services.refund_approval import refund_approval_settings_set
from payments.services.refund_requests import Channel, refund_or_request_create
from reconciliation import services as reconciliation
from reconciliation.selectors import settlement_get
from sandbox.cards import DISPUTE_CARD
from tests.factories import TEST_ACTOR, card, make_api_key, make_payment
from tests.reconciliation.files import csv_bytes, line_for

TOKYO = "Asia/Tokyo"  # +9 all year: a UTC time never reads the same there


def _local(when: datetime, *, seconds: bool = False) -> str:
    return when.astimezone(ZoneInfo(TOKYO)).strftime("%b %-d, %Y, %H:%M:%S %Z" if seconds else "%b %-d, %Y, %H:%M %Z")


@pytest.fixture
def tokyo(merchant):
    merchant_settings_update(
        merchant_id=merchant.merchant_id,
        actor=TEST_ACTOR,
        name=merchant.name,
        default_currency=merchant.default_currency,
        time_zone=TOKYO,
    )
    return merchant


def _body(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.content.decode()


def test_customers_show_their_creation_time_in_the_merchants_zone(as_role, tokyo):
    customer = customer_create(merchant_id=tokyo.merchant_id, actor=TEST_ACTOR, email="ada@example.com", name="Ada")
    client = as_role("admin")

    for path in (reverse("customers:customer-list"), reverse("customers:customer-detail", args=[customer.customer_id])):
        body = _body(client, path)
        assert _local(customer.created) in body and "JST" in body, path
        assert " UTC" not in body, path


def test_disputes_show_times_in_the_merchants_zone(as_role, tokyo):
    make_payment(tokyo.merchant_id, amount=4200, card=card(DISPUTE_CARD))
    (dispute,) = dispute_selectors.dispute_list_for_merchant(merchant_id=tokyo.merchant_id).items
    client = as_role("operator")

    listing = _body(client, reverse("disputes:dispute-list"))
    detail = _body(client, reverse("disputes:dispute-detail", args=[dispute.dispute_id]))

    assert _local(dispute.created) in listing and _local(dispute.evidence_due_by) in listing
    assert _local(dispute.created, seconds=True) in detail and _local(dispute.evidence_due_by) in detail
    assert " UTC" not in listing and " UTC" not in detail


def test_refund_requests_show_when_they_were_asked_and_expire_in_the_merchants_zone(as_role, tokyo):
    refund_approval_settings_set(
        merchant_id=tokyo.merchant_id, actor=TEST_ACTOR, thresholds={"usd": 50_00}, api_refunds_need_approval=False
    )
    payment = make_payment(tokyo.merchant_id, amount=120_00)
    asked = refund_or_request_create(
        merchant_id=tokyo.merchant_id,
        payment_id=payment.payment_id,
        actor=Actor(type="user", id="rita"),
        channel=Channel.DASHBOARD,
        amount=80_00,
    )

    body = _body(as_role("admin"), reverse("payments:refund-request-list"))

    assert _local(asked.created) in body and f"expires {_local(asked.expires_at)}" in body
    assert " UTC" not in body


def test_audit_events_show_their_time_with_seconds_in_the_merchants_zone(as_role, tokyo):
    make_payment(tokyo.merchant_id)
    client = as_role("admin")
    event = audit_event_list(merchant_id=tokyo.merchant_id).items[0]
    when = datetime.fromisoformat(event.occurred_at.replace("Z", "+00:00"))

    listing = _body(client, reverse("audit:event-list"))
    detail = _body(client, reverse("audit:event-detail", args=[event.event_id]))

    assert _local(when, seconds=True) in listing and _local(when, seconds=True) in detail
    assert "Time (UTC)" not in listing and "Time (UTC)" not in detail


def test_settlements_show_when_they_were_uploaded_and_finished_in_the_merchants_zone(as_role, tokyo):
    payment = make_payment(tokyo.merchant_id)
    intake = reconciliation.settlement_create(
        merchant_id=tokyo.merchant_id,
        actor=TEST_ACTOR,
        file=io.BytesIO(csv_bytes([line_for(payment, net="0.01")])),
        filename="acme.csv",
    )
    settlement = settlement_get(merchant_id=tokyo.merchant_id, settlement_id=intake.settlement.settlement_id)
    client = as_role("operator")

    listing = _body(client, reverse("reconciliation:settlement-list"))
    detail = _body(client, reverse("reconciliation:settlement-detail", args=[settlement.settlement_id]))

    assert _local(settlement.created) in listing and " UTC" not in listing
    assert f"uploaded {_local(settlement.created)}" in detail and f"finished {_local(settlement.completed)}" in detail


def test_api_keys_and_payments_use_the_same_format(as_role, tokyo):
    make_api_key(tokyo.merchant_id, name="checkout")
    payment = make_payment(tokyo.merchant_id)
    client = as_role("admin")

    developers = _body(client, reverse("developers:developers"))
    payments = _body(client, reverse("payments:payment-list"))

    assert _local(payment.created) in payments
    key_created = [line for line in developers.splitlines() if 'data-label="Created"' in line]
    assert key_created and all("JST" in line for line in key_created)
    assert "Created (UTC)" not in developers


def test_the_request_log_shows_each_request_in_the_merchants_zone(as_role, tokyo):
    response = Client().get("/api/v1/payments", HTTP_AUTHORIZATION=f"Bearer {make_api_key(tokyo.merchant_id)}")
    assert response.status_code == 200
    client = as_role("admin")

    listed = _body(client, reverse("developers:request-log"))
    log_id = listed.split('data-log-id="')[1].split('"')[0]
    detail = _body(client, reverse("developers:request-detail", args=[log_id]))

    times = [line for line in listed.splitlines() if 'data-label="Time"' in line]
    assert len(times) == 1 and " JST</a>" in times[0]
    assert "JST" in detail and "Time (UTC)" not in detail + listed


def test_without_a_zone_times_say_utc(as_role, merchant):
    customer = customer_create(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, email="grace@example.com")

    body = _body(as_role("admin"), reverse("customers:customer-list"))

    assert customer.created.strftime("%b %-d, %Y, %H:%M UTC") in body
