"""Payouts and the balance (API.md "Balance" and "Payouts"): a completed settlement file becomes one
payout per currency with the settlement's totals; the API, the pages and the export."""

from __future__ import annotations

import csv
import io

import pytest

from audit.models import AuditEvent
from payments.selectors import payment_get
from reconciliation import services
from reconciliation.models import Payout
from tests.factories import TEST_ACTOR, make_payment
from tests.payments.helpers import integrator, problem
from tests.reconciliation.files import csv_bytes, fee_of, line_for

pytestmark = [pytest.mark.engine, pytest.mark.usefixtures("moto_without_rollback")]

PAYOUT_KEYS = {"id", "object", "settlement_id", "currency", "gross", "fees", "net", "payment_count", "arrival_date"}


def _settle(merchant_id: str, payments: list, extra_rows: list | None = None):
    rows = [line_for(payment_get(merchant_id=merchant_id, payment_id=p.payment_id)) for p in payments]
    intake = services.settlement_create(
        merchant_id=merchant_id,
        actor=TEST_ACTOR,
        file=io.BytesIO(csv_bytes(rows + (extra_rows or []))),
        filename="payout.csv",
    )
    return intake.settlement


def test_a_completed_settlement_is_one_payout_per_currency_with_its_totals(client, dynamodb_backend):
    api = integrator(client)
    usd = [make_payment(api.merchant_id, amount=a) for a in (1_000, 2_500)]
    eur = make_payment(api.merchant_id, amount=4_000, currency="eur")

    settlement = _settle(api.merchant_id, [*usd, eur])

    listed = api.get("/payouts").json()
    assert (listed["object"], listed["has_more"], listed["next_cursor"]) == ("list", False, None)
    by_currency = {p["currency"]: p for p in listed["data"]}
    assert set(by_currency) == {"usd", "eur"}
    payout = by_currency["usd"]
    assert set(payout) == PAYOUT_KEYS
    assert payout["id"].startswith("po_") and payout["object"] == "payout"
    fees = fee_of(1_000) + fee_of(2_500)
    assert (payout["settlement_id"], payout["gross"], payout["fees"], payout["net"], payout["payment_count"]) == (
        settlement.settlement_id,
        3_500,
        fees,
        3_500 - fees,
        2,
    )
    totals = api.get(f"/settlements/{settlement.settlement_id}").json()["totals"]["usd"]
    assert (payout["gross"], payout["fees"], payout["net"]) == (totals["gross"], totals["fees"], totals["net"])
    assert len(payout["arrival_date"]) == 10
    assert api.get(f"/payouts/{payout['id']}").json() == payout

    balance = api.get("/balance").json()
    assert balance == {
        "object": "balance",
        "available": [
            {"currency": "eur", "amount": 4_000 - fee_of(4_000)},
            {"currency": "usd", "amount": 3_500 - fees},
        ],
        "pending": [{"currency": "eur", "amount": 0}, {"currency": "usd", "amount": 0}],
    }


def test_balance_is_empty_before_anything_moved_and_pending_after_a_capture(client, dynamodb_backend):
    api = integrator(client)
    assert api.get("/balance").json() == {"object": "balance", "available": [], "pending": []}

    api.create(amount=1_999)

    assert api.get("/balance").json()["pending"] == [{"currency": "usd", "amount": 1_999}]


def test_payouts_page_through_and_foreign_or_unknown_ids_are_404(client, dynamodb_backend):
    api, other = integrator(client), integrator(client)
    for amount in (1_000, 2_000, 3_000):
        _settle(api.merchant_id, [make_payment(api.merchant_id, amount=amount)])

    first = api.get("/payouts", limit=2).json()
    second = api.get("/payouts", limit=2, starting_after=first["next_cursor"]).json()

    assert first["has_more"] is True and len(first["data"]) == 2
    assert second["has_more"] is False and len(second["data"]) == 1
    ids = [p["id"] for p in first["data"] + second["data"]]
    assert ids == sorted(ids, reverse=True)  # newest first
    assert problem(other.get(f"/payouts/{ids[0]}"))["status"] == 404
    assert other.get("/payouts").json()["data"] == []
    assert problem(api.get("/payouts/po_01HZZZZZZZZZZZZZZZZZZZZZZZ"))["status"] == 404
    assert problem(api.get("/payouts/nope")).get("status") == 404


@pytest.mark.parametrize(
    ("params", "code"), [({"limit": 0}, "invalid_limit"), ({"starting_after": "set_123"}, "invalid_cursor")]
)
def test_bad_list_parameters_are_422(client, dynamodb_backend, params, code):
    api = integrator(client)
    response = api.get("/payouts", **params)
    assert response.status_code == 422 and problem(response)["code"] == code


def test_a_resumed_completion_writes_no_second_payout(dynamodb_backend, merchant):
    settlement = _settle(merchant.merchant_id, [make_payment(merchant.merchant_id)])

    again = services.settlement_process(merchant_id=merchant.merchant_id, settlement_id=settlement.settlement_id)

    assert again.status == "completed"
    assert [p.settlement_id for p in Payout.by_merchant.query(merchant.merchant_id)] == [settlement.settlement_id]


def test_the_pages_show_balance_payouts_and_a_payouts_payments_and_export_them(dynamodb_backend, merchant, signed_in):
    viewer_client = signed_in("viewer")
    payment = make_payment(merchant.merchant_id, amount=12_345)
    _settle(merchant.merchant_id, [payment])
    payout = next(iter(Payout.by_merchant.query(merchant.merchant_id)))

    balance = viewer_client.get("/balance/")
    assert balance.status_code == 200
    assert "Pending" in balance.content.decode() and payout.payout_id in balance.content.decode()
    listed = viewer_client.get("/balance/payouts/")
    assert listed.status_code == 200 and payout.payout_id in listed.content.decode()
    detail = viewer_client.get(f"/balance/payouts/{payout.payout_id}/").content.decode()
    assert payment.payment_id in detail and "Export payments" in detail
    home = viewer_client.get("/").content.decode()
    assert 'data-testid="home-balance"' in home

    export = viewer_client.get(f"/balance/payouts/{payout.payout_id}/payments.csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert [(r["payment_id"], r["amount"], r["fee"], r["outcome"]) for r in rows] == [
        (payment.payment_id, "123.45", f"{fee_of(12_345) / 100:.2f}", "matched")
    ]
    exported = [e for e in AuditEvent.query(merchant.merchant_id) if e.action == "payout.export"]
    assert [e.entity_id for e in exported] == [payout.payout_id]


def test_another_merchants_payout_page_is_404(dynamodb_backend, merchant, other, signed_in):
    viewer_client = signed_in("viewer")
    _settle(other.merchant_id, [make_payment(other.merchant_id)])
    foreign = next(iter(Payout.by_merchant.query(other.merchant_id)))

    assert viewer_client.get(f"/balance/payouts/{foreign.payout_id}/").status_code == 404
    assert viewer_client.get(f"/balance/payouts/{foreign.payout_id}/payments.csv").status_code == 404
    assert viewer_client.get("/balance/payouts/?starting_after=junk").status_code == 404
