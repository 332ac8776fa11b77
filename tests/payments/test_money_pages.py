"""Money as merchants read it on the pages, and saying no clearly (issue: dashboard trust and reach):
the refund limit said before any confirm step, the refund dialog's confirm step repeating the amount,
decimal major units in the dashboard's CSV exports (the API export keeps minor units), the amount filter
in one currency, a negative amount refused with a message, one audit event per audit-log search, no
cost page in a viewer's navigation, the theme kept with the account."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from core.models import UserPreference
from payments import selectors
from reconciliation import services as reconciliation_services
from tests.factories import HTMX, TEST_ACTOR, make_api_key, make_payment
from tests.reconciliation.files import csv_bytes, line_for

LIST = reverse("payments:payment-list")
EXPORT = reverse("payments:payment-export")


def _refunded(merchant, payment) -> int:
    return int(selectors.payment_get(merchant_id=merchant.merchant_id, payment_id=payment.payment_id).amount_refunded)


def test_a_refund_over_what_is_left_is_refused_before_the_confirmation_page(as_role, merchant):
    payment = make_payment(merchant.merchant_id, amount=3285)
    client = as_role("operator")

    response = client.post(reverse("payments:payment-refund", args=[payment.payment_id]), {"amount": "1000"})

    body = response.content.decode()
    assert response.status_code == 422
    assert "Refunding $1,000.00 would exceed the $32.85 still refundable." in body
    assert 'name="confirm" value="yes"' not in body  # no confirmation page: the amount is wrong
    assert _refunded(merchant, payment) == 0


def test_the_refund_dialog_confirms_the_amount_before_refunding(as_role, merchant):
    payment = make_payment(merchant.merchant_id, amount=8000)
    client = as_role("operator")
    url = reverse("payments:payment-refund", args=[payment.payment_id])
    detail = client.get(reverse("payments:payment-detail", args=[payment.payment_id])).content.decode()

    ask = client.post(url, {"amount": "25.5", "reason": "duplicate", "idempotency_key": "k" * 24}, **HTMX)

    body = ask.content.decode()
    assert 'value="80.00"' in detail and 'max="80.00"' in detail  # prefilled with what is left, capped
    assert ask.status_code == 200 and 'data-testid="refund-confirm"' in body
    assert "Refund <strong" in body and "$25.50</strong>" in body and "Yes, refund $25.50" in body
    assert 'name="amount" value="25.50"' in body and 'name="reason" value="duplicate"' in body
    assert _refunded(merchant, payment) == 0
    done = client.post(
        url, {"amount": "25.50", "reason": "duplicate", "idempotency_key": "k" * 24, "confirm": "yes"}, **HTMX
    )
    assert "Refunded $25.50." in done.content.decode()
    assert _refunded(merchant, payment) == 2550


def test_the_dashboard_csv_has_major_units_and_the_api_export_keeps_minor_units(as_role, merchant):
    make_payment(merchant.merchant_id, amount=123456)
    make_payment(merchant.merchant_id, amount=5000, currency="jpy")
    client = as_role("viewer")
    secret = make_api_key(merchant.merchant_id)

    page = b"".join(client.get(EXPORT).streaming_content).decode()
    api = client.get("/api/v1/payments/export", HTTP_AUTHORIZATION=f"Bearer {secret}")

    rows = {r["currency"]: r for r in csv.DictReader(io.StringIO(page))}
    assert (rows["usd"]["amount"], rows["usd"]["amount_captured"], rows["usd"]["amount_refunded"]) == (
        "1234.56",
        "1234.56",
        "0.00",
    )
    assert rows["jpy"]["amount"] == "5000"
    assert api.status_code == 200  # the API's export: minor units, as API.md says
    api_rows = {r["currency"]: r for r in csv.DictReader(io.StringIO(b"".join(api.streaming_content).decode()))}
    assert api_rows["usd"]["amount"] == "123456"


def test_the_amount_filter_applies_to_its_currency_only(as_role, merchant):
    dollars = make_payment(merchant.merchant_id, amount=6000)  # $60.00
    yen = make_payment(merchant.merchant_id, amount=6000, currency="jpy")  # ¥6,000
    make_payment(merchant.merchant_id, amount=4000, currency="jpy")
    client = as_role("viewer")

    in_yen = client.get(LIST, {"currency": "jpy", "amount_min": "5000"})
    in_dollars = client.get(LIST, {"amount_min": "50"})  # the merchant's default currency, USD

    assert [p.payment_id for p in in_yen.context["payments"]] == [yen.payment_id]
    assert [p.payment_id for p in in_dollars.context["payments"]] == [dollars.payment_id]
    assert "Min amount (<span data-amount-currency>JPY</span>)" in in_yen.content.decode()
    assert "¥6,000" in in_yen.content.decode()


def test_a_negative_amount_filter_gets_a_message_not_silence(as_role, merchant):
    make_payment(merchant.merchant_id, amount=6000)
    client = as_role("viewer")

    response = client.get(LIST, {"amount_min": "-5"}, **HTMX)

    body = response.content.decode()
    assert "Some filters need fixing." in body and "Min amount: Enter an amount of 0 or more." in body


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_costs_are_not_in_a_viewers_navigation(as_role, role):
    body = as_role(role).get("/").content.decode()
    assert ('href="/costs/"' in body) is (role != "viewer")


def test_reading_the_audit_log_makes_one_event_per_search_not_per_page(signed_in, merchant):
    for _ in range(3):
        make_payment(merchant.merchant_id)
    client = signed_in("admin")

    first = client.get("/audit/")
    cursor = first.context["events"][1].event_id
    client.get("/audit/", {"starting_after": cursor})
    client.get("/audit/", {"starting_after": cursor}, **HTMX)
    client.get("/audit/", {"action": "payment.create"})

    reads = [e for e in AuditEvent.query(merchant.merchant_id) if e.action == "audit_log.read"]
    assert len(reads) == 2  # the first page of each search


def test_the_discrepancy_csv_has_major_units_with_the_currency(as_role, merchant):
    paid = make_payment(merchant.merchant_id, amount=250000)
    rows = [line_for(paid, amount="2499.00", net="2400.00")]
    intake = reconciliation_services.settlement_create(
        merchant_id=merchant.merchant_id, actor=TEST_ACTOR, file=io.BytesIO(csv_bytes(rows)), filename="nov.csv"
    )
    client = as_role("viewer")

    export = client.get(
        reverse("reconciliation:discrepancy-export", kwargs={"settlement_id": intake.settlement.settlement_id})
    )

    (row,) = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert (row["kind"], row["expected"], row["actual"], row["currency"]) == (
        "amount_mismatch",
        "2500.00",
        "2499.00",
        "usd",
    )


def test_the_theme_is_kept_with_the_account(signed_in):
    client = signed_in("viewer")

    chosen = client.post("/accounts/theme/", {"theme": "dark"}, HTTP_ACCEPT="application/json")
    page = client.get("/").content.decode()
    refused = client.post("/accounts/theme/", {"theme": "purple"}, HTTP_ACCEPT="application/json")
    back = client.post("/accounts/theme/", {"theme": "light", "next": "https://evil.example/"})

    assert chosen.json() == {"theme": "dark", "next": "light"}
    assert '<html lang="en" data-theme="dark">' in page
    assert refused.status_code == 400
    assert back.status_code == 302 and back["Location"] == "/"
    assert UserPreference.objects.get().theme == "light"
