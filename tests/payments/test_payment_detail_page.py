"""The payment page says what happened (issue: dashboard trust and reach, point 6): a failed payment
is not "Authorized", decline codes read as sentences (the API keeps its codes), an uncaptured
authorization says when it expires, fees show once known, the refund form opens on demand."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from pynamodb.transactions import TransactWrite

from core import dynamodb
from core.ids import now as clock_now
from disputes.services import dispute_open
from payments import selectors
from payments.declines import DECLINES, decline_for
from payments.enums import PaymentStatus
from payments.errors import CardDeclined
from payments.services import expiry
from payments.services.settlements import payment_settle_in
from tests.factories import TEST_ACTOR, card, make_payment

DECLINED = "4000000000000002"
NO_FUNDS = "4000000000009995"


def _page(client, payment_id: str, query: str = ""):
    return client.get(reverse("payments:payment-detail", args=[payment_id]) + query)


def _text(response) -> str:
    """The page's visible words, tags stripped and spaces collapsed (noscript content included)."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


def _failed(merchant_id: str, number: str) -> str:
    with pytest.raises(CardDeclined) as declined:
        make_payment(merchant_id, amount=3182, card=card(number))
    return declined.value.extensions["payment_id"]


def test_a_declined_payment_reads_as_failed_with_a_sentence_not_as_authorized(as_role, merchant):
    payment_id = _failed(merchant.merchant_id, DECLINED)

    page = _page(as_role("viewer"), payment_id)

    text = _text(page)
    assert page.status_code == 200
    assert "Authorized" not in text  # the issue: "Authorized 31.82 USD" on a failed payment
    assert "Attempted $31.82" in text and "Charged $0.00" in text
    assert "This payment failed: declined by the card issuer." in text
    assert DECLINES["card_declined"].sentence in text
    assert 'data-testid="decline-label">Declined by the card issuer<' in page.content.decode()
    # The API keeps its code: named once, as the API's, and still in the payment object.
    assert "The API reports the code card_declined" in text
    api_object = selectors.payment_get(merchant_id=merchant.merchant_id, payment_id=payment_id)
    assert api_object.failure_code == "card_declined"


def test_insufficient_funds_reads_as_its_own_sentence_in_the_notice_and_the_timeline(as_role, merchant):
    payment_id = _failed(merchant.merchant_id, NO_FUNDS)

    text = _text(_page(as_role("viewer"), payment_id))

    assert DECLINES["insufficient_funds"].sentence in text
    timeline = text.split("Timeline", 1)[1].split("Webhook deliveries", 1)[0]
    assert "Insufficient funds" in timeline and "insufficient_funds" not in timeline


def test_an_unknown_decline_code_still_reads_as_a_sentence():
    decline = decline_for("do_not_honor")

    assert decline is not None and decline.label == "Do not honor"
    assert decline.sentence == "The payment was declined (do not honor). Nothing was charged."
    assert decline_for(None) is None


def test_an_uncaptured_authorization_says_when_it_expires(as_role, merchant):
    payment = make_payment(merchant.merchant_id, amount=3182, capture=False, now=clock_now() - timedelta(days=2))
    expires = payment.created + timedelta(days=7)

    page = _page(as_role("operator"), payment.payment_id)

    text = _text(page)
    when = f"{expires:%b} {expires.day}, {expires:%Y}, {expires:%H:%M} UTC"  # the one format of every page
    assert f"Capture it by {when}" in text and "(in 4 days" in text
    assert f"Authorization expires {when}" in text
    assert "Authorized $31.82" in text and "Captured $0.00" in text
    assert b'action="' + reverse("payments:payment-capture", args=[payment.payment_id]).encode() in page.content


def test_an_authorization_past_its_expiry_cannot_be_captured_from_the_page(as_role, merchant):
    payment = make_payment(merchant.merchant_id, capture=False, now=clock_now() - timedelta(days=7, minutes=1))

    page = _page(as_role("operator"), payment.payment_id)

    assert "can no longer be captured" in _text(page)
    assert reverse("payments:payment-capture", args=[payment.payment_id]).encode() not in page.content


def test_an_authorization_the_sweep_expired_reads_as_expired_and_released(as_role, merchant, db):
    payment = make_payment(merchant.merchant_id, amount=3182, capture=False, now=clock_now() - timedelta(days=8))
    assert expiry.authorization_expire_due().expired == [payment.payment_id]

    text = _text(_page(as_role("viewer"), payment.payment_id))

    assert "The authorization expired uncaptured after 7 days" in text
    assert "Released $31.82" in text
    assert "Authorization expired" in text.split("Timeline", 1)[1]  # the cancel entry's reason, in words
    assert "Authorization expires" not in text


def _settle(payment, *, fee: int) -> None:
    with TransactWrite(connection=dynamodb.connection()) as transaction:
        payment_settle_in(
            transaction=transaction,
            payment=selectors.payment_get(merchant_id=payment.merchant_id, payment_id=payment.payment_id),
            settlement_id="set_01JTESTSETTLEMENT000000000",
            settleable_statuses=(PaymentStatus.SUCCEEDED,),
            txn_id="txn_01JTESTSETTLEMENT000000000",
            amount=int(payment.amount),
            currency=payment.currency,
            reason="fee 0.75, net 24.25",
            actor=TEST_ACTOR,
            at=clock_now(),
            fee=fee,
        )


def test_fees_show_once_a_settlement_said_them_and_not_before(as_role, merchant):
    payment = make_payment(merchant.merchant_id, amount=2500)
    client = as_role("viewer")
    assert "Fees" not in _text(_page(client, payment.payment_id))

    _settle(payment, fee=75)

    text = _text(_page(client, payment.payment_id))
    assert "Fees $0.75" in text
    assert "Processing fee $0.75 set_01JTESTSETTLEMENT000000000" in text


def test_a_dispute_fee_shows_with_the_fees(as_role, merchant):
    payment = make_payment(merchant.merchant_id, amount=2500)
    dispute_open(merchant_id=merchant.merchant_id, payment_id=payment.payment_id, actor=TEST_ACTOR)

    text = _text(_page(as_role("viewer"), payment.payment_id))

    assert "Dispute fee $" in text and "Fees $" in text


def test_the_refund_form_opens_on_demand_without_javascript(as_role, merchant):
    payment = make_payment(merchant.merchant_id, amount=5000)
    client = as_role("operator")

    closed = _page(client, payment.payment_id).content.decode()
    opened = _page(client, payment.payment_id, "?refund=open").content.decode()

    # With JavaScript: a button opens the dialog (which a no-JS page keeps hidden in a js-only block).
    assert 'data-dialog-open="refund-dialog"' in closed and '<div class="js-only">' in closed
    # Without: a disclosure, closed until asked for (by its summary, or a link to ?refund=open).
    disclosure = re.search(r"<noscript>(.*?)</noscript>", closed, re.S).group(1)
    assert '<details class="mt-4" data-testid="refund-disclosure">' in disclosure
    assert '<summary class="button is-warning">Refund…</summary>' in disclosure
    assert 'id="refund-amount-nojs"' in disclosure and 'for="refund-amount-nojs"' in disclosure
    assert 'data-testid="refund-disclosure" open>' in opened


def test_a_refund_error_without_javascript_comes_back_with_the_disclosure_open(as_role, merchant):
    payment = make_payment(merchant.merchant_id, amount=5000)
    client = as_role("operator")

    response = client.post(
        reverse("payments:payment-refund", args=[payment.payment_id]),
        {"amount": "80.00", "reason": "requested_by_customer", "confirm": "yes"},
    )

    assert response.status_code == 422
    page = response.content.decode()
    assert 'data-testid="refund-disclosure" open>' in page
    assert "would exceed" in page or "at most" in page
    assert (
        int(selectors.payment_get(merchant_id=merchant.merchant_id, payment_id=payment.payment_id).amount_refunded) == 0
    )


def test_a_viewer_gets_no_refund_form_at_all(as_role, merchant):
    payment = make_payment(merchant.merchant_id)

    page = _page(as_role("viewer"), payment.payment_id, "?refund=open").content.decode()

    assert "refund-disclosure" not in page and "refund-dialog" not in page
