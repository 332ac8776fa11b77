"""A dispute from opening to won in Chromium: the processor opens it on a dispute-card payment, an
operator finds it on the Disputes page, writes and submits evidence, and the sweep decides."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from disputes import selectors, services
from sandbox.cards import DISPUTE_CARD
from tests.disputes.helpers import later
from tests.factories import card, make_merchant, make_payment, make_user

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def test_an_operator_walks_a_dispute_from_opening_to_won(
    page, live_server, sign_in, screenshot, transactional_db, dynamodb_backend
):
    merchant = make_merchant("Acme Outdoor")
    make_user("olga", merchant_id=merchant.merchant_id, role="operator")
    payment = make_payment(merchant.merchant_id, amount=4200, card=card(DISPUTE_CARD))  # the task opens it
    (dispute,) = selectors.dispute_list_for_merchant(merchant_id=merchant.merchant_id).items

    sign_in("olga")
    page.get_by_role("link", name="Disputes").click()
    expect(page.get_by_test_id("count-needs_response")).to_have_text("1")
    expect(page.get_by_test_id("days-left")).to_contain_text("days left")
    screenshot("dispute-list")
    page.get_by_role("link", name=dispute.dispute_id).click()
    expect(page.get_by_test_id("dispute-status")).to_have_text("needs_response")
    expect(page.get_by_test_id("dispute-payment")).to_have_text(payment.payment_id)

    page.set_input_files(
        "#evidence-file", files=[{"name": "receipt.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.get_by_role("button", name="Add file").click()
    expect(page.get_by_text("receipt.pdf was added to the evidence.")).to_be_visible()
    page.get_by_label("Evidence text").fill("Delivered and signed for: winning_evidence")
    page.get_by_role("button", name="Submit evidence").click()
    expect(page.get_by_text("The evidence was submitted: the processor reviews it.")).to_be_visible()
    expect(page.get_by_test_id("dispute-status")).to_have_text("under_review")
    screenshot("dispute-under-review")

    services.disputes_sweep(now=later(minutes=2))  # the processor's decision, a minute after submission

    page.reload()
    expect(page.get_by_test_id("dispute-status")).to_have_text("won")
    expect(page.get_by_test_id("timeline")).to_contain_text("dispute.close")
    page.get_by_test_id("dispute-payment").click()
    expect(page.get_by_test_id("payment-dispute")).to_have_text(dispute.dispute_id)
    expect(page.get_by_test_id("timeline")).to_contain_text("Dispute_reversal")
    screenshot("dispute-won-payment")
