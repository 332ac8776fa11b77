"""An operator uploads a settlement file in Chromium, watches the progress bar, then reads the results."""

from __future__ import annotations

import io
import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from audit.models import AuditEvent
from reconciliation import services
from reconciliation.models import Settlement
from tests.factories import TEST_ACTOR, make_merchant, make_user
from tests.reconciliation.files import csv_bytes, line_for
from tests.reconciliation.planted import bulk_succeeded_payments

pytestmark = pytest.mark.browser


def test_operator_uploads_a_file_sees_progress_then_results(
    page, live_server, sign_in, screenshot, transactional_db, dynamodb_backend, settings
):
    # The worker is this test: uploads only queue the task, so the page shows the file in progress.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    merchant = make_merchant("Acme Outdoor")
    make_user("olga", merchant_id=merchant.merchant_id, role="operator")
    start = datetime.now(UTC).replace(hour=1, minute=0, second=0, microsecond=0) - timedelta(days=2)
    payments = bulk_succeeded_payments(merchant.merchant_id, count=400, currency="usd", start=start, seed=1)
    rows = [line_for(p) for p in payments]
    rows[17] = line_for(payments[17], net="0.01")  # one fee_mismatch
    content = csv_bytes(rows)

    sign_in("olga")
    page.get_by_role("link", name="Settlements").click()
    page.get_by_role("link", name="Upload a settlement file").click()
    page.set_input_files("#id_file", files=[{"name": "acme-2026-11.csv", "mimeType": "text/csv", "buffer": content}])
    expect(page.locator("#file-name")).to_have_text("acme-2026-11.csv")
    page.get_by_role("button", name="Upload and reconcile").click()

    expect(page.get_by_text("acme-2026-11.csv was uploaded: 400 rows to reconcile.")).to_be_visible()
    expect(page.get_by_test_id("progress-text")).to_contain_text("0 of 400 rows")
    screenshot("settlement-progress")
    (settlement,) = Settlement.by_merchant.query(merchant.merchant_id)
    worker = threading.Thread(
        target=services.settlement_process,
        kwargs={"merchant_id": merchant.merchant_id, "settlement_id": settlement.settlement_id},
    )
    worker.start()

    expect(page.get_by_test_id("totals")).to_be_visible(timeout=120_000)
    worker.join()
    expect(page.get_by_test_id("counts")).to_contain_text("Matched 399")
    expect(page.get_by_test_id("open-fee_mismatch")).to_have_text("1")
    row = page.locator("#discrepancy-table tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Fee does not add up")
    screenshot("settlement-results")
    row.get_by_label("Reason").fill("Processor fee credit, ticket 4711")
    row.get_by_role("button", name="Resolve").click()
    expect(page.locator("#discrepancy-table tbody tr")).to_contain_text("Resolved by olga")
    expect(page.get_by_test_id("open-fee_mismatch")).to_have_text("0")

    # The completed file is the processor's payout: Balance, its payouts, the payout's page.
    page.get_by_role("link", name="Balance", exact=True).click()
    page.get_by_role("link", name="All payouts").click()
    page.get_by_role("link", name=re.compile(r"^po_")).click()
    expect(page.get_by_test_id("payout-totals")).to_contain_text("400 payments")
    expect(page.get_by_test_id("payout-payments").locator("tbody tr")).to_have_count(200)  # the rest: the export
    expect(page.get_by_role("link", name="Export payments (CSV)")).to_be_visible()
    screenshot("payout")


def test_operator_resolves_every_open_discrepancy_of_a_kind_then_one_in_place(
    page, live_server, sign_in, screenshot, transactional_db, dynamodb_backend
):
    merchant = make_merchant("Acme Outdoor")
    make_user("olga", merchant_id=merchant.merchant_id, role="operator")
    start = datetime.now(UTC).replace(hour=1, minute=0, second=0, microsecond=0) - timedelta(days=2)
    payments = bulk_succeeded_payments(merchant.merchant_id, count=60, currency="usd", start=start, seed=2)
    rows = [line_for(p, net="0.01") for p in payments[:55]]  # 55 fees that do not add up
    rows += [line_for(p, amount="999.99") for p in payments[55:58]]  # 3 amounts that differ
    rows += [line_for(p) for p in payments[58:]]
    services.settlement_create(
        merchant_id=merchant.merchant_id, actor=TEST_ACTOR, file=io.BytesIO(csv_bytes(rows)), filename="nov.csv"
    )

    sign_in("olga")
    page.get_by_role("link", name="Settlements").click()
    expect(page.get_by_test_id("open-count")).to_contain_text("58 open")
    page.get_by_role("link", name=re.compile(r"^set_")).click()
    page.get_by_label("Kind").select_option("fee_mismatch")  # the table follows by htmx
    resolve_all = page.get_by_role("button", name="Resolve all 55 open “Fee does not add up”")
    expect(resolve_all).to_be_visible()
    resolve_all.click()  # no reason yet
    expect(page.get_by_role("alert").filter(has_text="Say why the discrepancy is resolved.")).to_be_visible()

    page.get_by_label("Reason for the selected discrepancies").fill("Processor fee credit, ticket 4711")
    page.get_by_role("button", name="Resolve all 55 open “Fee does not add up”").click()
    expect(
        page.get_by_text("Resolved 55 “Fee does not add up” discrepancies, each with its own audit event.")
    ).to_be_visible()
    expect(page.get_by_test_id("open-fee_mismatch")).to_have_text("0")
    expect(page.get_by_test_id("resolved-fee_mismatch")).to_have_text("55")

    # One of another kind, resolved in place: the row and the counts change, the page does not reload.
    page.get_by_label("Kind").select_option("amount_mismatch")
    rows_shown = page.get_by_test_id("discrepancy-row")
    expect(rows_shown).to_have_count(3)
    page.evaluate("window.__noReload = 'still here'")
    first = rows_shown.first
    first.get_by_label("Reason").fill("Partial capture agreed with the customer")
    first.get_by_role("button", name="Resolve").click()
    expect(first.get_by_test_id("resolution")).to_contain_text("Resolved by olga")
    expect(page.get_by_test_id("open-amount_mismatch")).to_have_text("2")
    expect(page.locator("#discrepancy-table tbody tr")).to_have_count(3)  # only the row was swapped
    assert page.evaluate("window.__noReload") == "still here"

    # The other two, ticked and resolved together.
    for row in (rows_shown.nth(1), rows_shown.nth(2)):
        row.get_by_test_id("select").check()
    page.get_by_label("Reason for the selected discrepancies").fill("Same agreement")
    page.get_by_role("button", name="Resolve selected").click()
    expect(page.get_by_text("Resolved 2 discrepancies, each with its own audit event.")).to_be_visible()
    expect(page.get_by_test_id("open-total")).to_have_text("0 open")
    screenshot("settlement-resolved")
    page.get_by_role("link", name="Settlements").first.click()
    expect(page.get_by_test_id("open-count")).to_contain_text("All resolved")
    events = [e for e in AuditEvent.query(merchant.merchant_id) if e.action == "discrepancy.resolve"]
    assert len(events) == 58 and {e.actor_id for e in events} == {"olga"}
