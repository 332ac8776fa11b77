"""An operator uploads a settlement file in Chromium, watches the progress bar, then reads the results."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from reconciliation import services
from reconciliation.models import Settlement
from tests.factories import make_merchant, make_user
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
    expect(page.get_by_test_id("counts")).to_contain_text("Fee mismatch 1")
    row = page.locator("#discrepancy-table tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("fee_mismatch")
    screenshot("settlement-results")
    row.get_by_label("Reason").fill("Processor fee credit, ticket 4711")
    row.get_by_role("button", name="Resolve").click()
    expect(page.locator("#discrepancy-table tbody tr")).to_contain_text("resolved by olga")

    # The completed file is the processor's payout: Balance, its payouts, the payout's page.
    page.get_by_role("link", name="Balance", exact=True).click()
    page.get_by_role("link", name="All payouts").click()
    page.get_by_role("link", name=re.compile(r"^po_")).click()
    expect(page.get_by_test_id("payout-totals")).to_contain_text("400 payments")
    expect(page.get_by_test_id("payout-payments").locator("tbody tr")).to_have_count(200)  # the rest: the export
    expect(page.get_by_role("link", name="Export payments (CSV)")).to_be_visible()
    screenshot("payout")
