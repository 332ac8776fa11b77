"""Small screens: at 390 px every list page reads as stacked cards (each cell after its column's name),
filters wait behind a "Filters" button, no page scrolls sideways, and axe finds nothing serious in light
or dark. At 1440 px the same pages keep their tables and show their filters without a click."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from core.actor import Actor
from disputes import selectors as dispute_selectors
from payments.services.refund_approval import refund_approval_settings_set
from payments.services.refund_requests import Channel, refund_or_request_create
from reconciliation import services as reconciliation
from sandbox.cards import DISPUTE_CARD
from tests.browser.demo_data import make_realistic_payments
from tests.browser.test_accessibility import AXE, BLOCKING, TAGS
from tests.factories import TEST_ACTOR, card, make_merchant, make_payment, make_user
from tests.reconciliation.files import csv_bytes, line_for
from tests.webhooks.test_services import Receiver
from webhooks.endpoints import webhook_endpoint_create

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}

# The first cell's label of each list: the column its value belongs to.
STACKED = """table => {
  const row = table.querySelector("tbody tr"), cell = row.querySelector("td"), head = table.querySelector("thead");
  return {row: getComputedStyle(row).display, cell: getComputedStyle(cell).display,
          label: getComputedStyle(cell, "::before").content, head: head.getBoundingClientRect().height};
}"""
SCROLL_WIDTH = "() => document.documentElement.scrollWidth"
# What sticks out past the right edge, to say why a page scrolls sideways.
WIDER = """() => [...document.body.querySelectorAll("*")]
  .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
  .slice(-5).map(e => `${e.tagName.toLowerCase()}.${[...e.classList].join(".")} ${Math.round(e.getBoundingClientRect().right)}`)"""


def _axe_blocking(page, selector: str) -> list[str]:
    """Serious or critical axe violations inside `selector` (the list and its filters, as laid out here)."""
    options = {"runOnly": {"type": "tag", "values": TAGS}, "resultTypes": ["violations"]}
    results = AXE.run(page, context=selector, options=options)
    return [f"{v['id']}: {v['help']}" for v in results.response["violations"] if v["impact"] in BLOCKING]


def _fits(page, where: str) -> None:
    assert page.evaluate(SCROLL_WIDTH) <= PHONE["width"], (where, page.evaluate(WIDER))


@pytest.fixture
def receiver():
    endpoint = Receiver()
    yield endpoint
    endpoint.close()


def _merchant_with_every_list(receiver):
    """A merchant whose every list has rows: payments for named customers, a dispute, a refund request
    awaiting approval, a settlement file with a discrepancy, webhook deliveries and audit events."""
    merchant = make_merchant("Acme Outdoor")
    merchant_id = merchant.merchant_id
    make_user("ada", merchant_id=merchant_id, role="admin")
    webhook_endpoint_create(merchant_id=merchant_id, actor=TEST_ACTOR, url=receiver.url, events=["*"])
    made = make_realistic_payments(merchant_id, count=12, days=3)
    make_payment(merchant_id, amount=4200, card=card(DISPUTE_CARD))  # disputed after its capture
    refund_approval_settings_set(
        merchant_id=merchant_id, actor=TEST_ACTOR, thresholds={"usd": 50_00}, api_refunds_need_approval=False
    )
    big = make_payment(merchant_id, amount=120_00, description="Order 261129-5381, a long description to wrap")
    refund_or_request_create(
        merchant_id=merchant_id,
        payment_id=big.payment_id,
        actor=Actor(type="user", id="rita"),
        channel=Channel.DASHBOARD,
        amount=80_00,
    )
    settled = [p for p in made if p.status == "succeeded"][:5]
    rows = [line_for(p) for p in settled]
    rows[0] = line_for(settled[0], net="0.01")  # one fee mismatch
    intake = reconciliation.settlement_create(
        merchant_id=merchant_id, actor=TEST_ACTOR, file=io.BytesIO(csv_bytes(rows)), filename="acme-2026-11.csv"
    )
    assert dispute_selectors.dispute_list_for_merchant(merchant_id=merchant_id).items
    return merchant, big, intake.settlement


def test_every_list_is_stacked_cards_without_sideways_scroll_on_a_phone(
    page, live_server, sign_in, screenshot, receiver, transactional_db, dynamodb_backend
):
    merchant, big, settlement = _merchant_with_every_list(receiver)
    page.set_viewport_size(PHONE)
    sign_in("ada")
    lists = {
        reverse("payments:payment-list"): ("table.payment-rows", '"Amount"'),
        reverse("customers:customer-list"): ("#customer-table table", '"Customer"'),
        reverse("reconciliation:settlement-list"): ("#settlement-table table", '"Settlement"'),
        reverse("reconciliation:settlement-detail", args=[settlement.settlement_id]): (
            "#discrepancy-table table",
            '"Line"',
        ),
        reverse("disputes:dispute-list"): ("[data-testid=dispute-table]", '"Dispute"'),
        reverse("payments:refund-request-list"): ("[data-testid=refund-requests]", '"Request"'),
        reverse("audit:event-list"): ("#audit-table table", '"Time"'),
        reverse("developers:developers"): ("[data-testid=deliveries]", '"Event"'),
    }

    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        for path, (selector, label) in lists.items():
            page.goto(f"{live_server.url}{path}")
            table = page.locator(selector)
            expect(table.locator("tbody tr").first).to_be_visible()
            layout = table.evaluate(STACKED)
            assert layout == {"row": "block", "cell": "block", "label": label, "head": 1}, path
            _fits(page, path)
            assert _axe_blocking(page, selector) == [], (path, scheme)  # the cards pass axe in both themes
            if path == reverse("payments:payment-list") and scheme == "light":
                screenshot("payments-mobile")
    page.emulate_media(color_scheme="light")

    # Filters fold behind a button and open on a tap.
    page.goto(f"{live_server.url}{reverse('payments:payment-list')}")
    search = page.get_by_label("Search")
    expect(search).to_be_hidden()
    page.get_by_test_id("filters").locator("summary").click()
    expect(search).to_be_visible()
    assert _axe_blocking(page, "details.filter-drawer") == []
    page.get_by_label("Min amount (USD)").fill("-5")
    expect(page.locator("#payment-table").get_by_role("alert")).to_contain_text("Enter an amount of 0 or more.")
    _fits(page, "payment filters")

    # A payment's own page fits too (it was 461 px wide).
    page.goto(f"{live_server.url}{reverse('payments:payment-detail', args=[big.payment_id])}")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    _fits(page, "payment detail")

    # On a wide screen the same list is a table again and its filters show without a click.
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}{reverse('payments:payment-list')}")
    expect(page.get_by_label("Search")).to_be_visible()
    expect(page.get_by_test_id("filters").locator("summary")).to_be_hidden()
    layout = page.locator("table.payment-rows").evaluate(STACKED)
    assert layout["row"] == "table-row" and layout["cell"] == "table-cell" and layout["head"] > 1
