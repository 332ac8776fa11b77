"""GET /payments paging and filters, /payments/summary and /payments/export."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from core.ids import new_id
from customers.services import customer_create
from payments import services
from payments.models import CardAttribute, Payment
from tests.factories import TEST_ACTOR, card
from tests.payments.helpers import integrator, problem

pytestmark = pytest.mark.engine

BASE = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)


def _rfc3339(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _make_many(merchant_id: str, count: int, customers: list[str]) -> list[dict]:
    """`count` payments a minute apart with a mix of statuses and customers. Written with
    BatchWriteItem, not the services: only the listing is under test here, and a thousand
    transactions would take minutes in moto. Each item is what `payment_create` stores."""
    made = []
    with Payment.batch_write() as batch:
        for n in range(count):
            at = BASE + timedelta(minutes=n)
            status = ("succeeded", "succeeded", "partially_refunded", "requires_capture", "failed")[n % 5]
            amount = 100 + n
            captured = amount if status in ("succeeded", "partially_refunded") else 0
            payment = Payment(
                payment_id=new_id("pay", at),
                merchant_id=merchant_id,
                merchant_status=f"{merchant_id}#{status}",
                status=status,
                amount=amount,
                currency="usd",
                amount_captured=captured,
                amount_refunded=1 if status == "partially_refunded" else 0,
                customer_id=customers[n % len(customers)] if n % 5 in (0, 1, 3) else None,
                description=None,
                metadata={},
                card=CardAttribute(brand="visa", last4="4242", exp_month=12, exp_year=2034, fingerprint="f" * 32),
                failure_code="card_declined" if status == "failed" else None,
                created=at,
                updated=at,
                version=1,
            )
            batch.save(payment)
            made.append({"id": payment.payment_id, "status": status, "customer_id": payment.customer_id, "created": at})
    return made


def _page_through(api, limit: int, **filters) -> list[str]:
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": limit, **filters}
        if cursor:
            params["starting_after"] = cursor
        response = api.get("/payments", **params)
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["object"] == "list" and len(body["data"]) <= limit
        seen += [p["id"] for p in body["data"]]
        pages += 1
        if not body["has_more"]:
            assert body["next_cursor"] is None
            return seen
        assert len(body["data"]) == limit and body["next_cursor"] == body["data"][-1]["id"]
        cursor = body["next_cursor"]


def test_paging_1000_payments_by_7_returns_each_once_newest_first_for_every_filter(client, dynamodb_backend, settings):
    """1,000 payments against DynamoDB Local; moto, whose queries read every item of the table, pages
    through 150 with the same filters."""
    settings.DEFAULT_RATE_LIMIT_PER_MINUTE = 1_000_000  # about 900 pages in a minute
    count = 1000 if dynamodb_backend == "dynamodb-local" else 150
    api = integrator(client)
    customers = [
        customer_create(
            merchant_id=api.merchant_id, actor=TEST_ACTOR, email=f"c{n}@example.com", name=f"C{n}"
        ).customer_id
        for n in range(2)
    ]
    made = _make_many(api.merchant_id, count, customers)
    gte, lt = BASE + timedelta(minutes=count // 10), BASE + timedelta(minutes=count * 7 // 9)
    cases = [
        ({}, lambda p: True),
        ({"status": "succeeded"}, lambda p: p["status"] == "succeeded"),
        ({"status": "requires_capture"}, lambda p: p["status"] == "requires_capture"),
        ({"status": "failed"}, lambda p: p["status"] == "failed"),
        ({"status": "partially_refunded"}, lambda p: p["status"] == "partially_refunded"),
        ({"customer_id": customers[0]}, lambda p: p["customer_id"] == customers[0]),
        (
            {"customer_id": customers[1], "status": "requires_capture"},
            lambda p: p["customer_id"] == customers[1] and p["status"] == "requires_capture",
        ),
        ({"created_gte": _rfc3339(gte), "created_lt": _rfc3339(lt)}, lambda p: gte <= p["created"] < lt),
        ({"created_gte": _rfc3339(gte)}, lambda p: gte <= p["created"]),
        ({"created_lt": _rfc3339(lt)}, lambda p: p["created"] < lt),
        (
            {"status": "succeeded", "created_gte": _rfc3339(gte), "created_lt": _rfc3339(lt)},
            lambda p: p["status"] == "succeeded" and gte <= p["created"] < lt,
        ),
        (
            {"customer_id": customers[0], "created_gte": _rfc3339(gte)},
            lambda p: p["customer_id"] == customers[0] and gte <= p["created"],
        ),
    ]
    for filters, wanted in cases:
        expected = [p["id"] for p in sorted(made, key=lambda p: p["id"], reverse=True) if wanted(p)]
        assert expected, filters

        seen = _page_through(api, 7, **filters)

        assert seen == expected, filters
        assert len(seen) == len(set(seen)), filters


def test_default_limit_is_20_and_another_merchants_payments_never_show(client, dynamodb_backend):
    api, other = integrator(client), integrator()
    _make_many(api.merchant_id, 25, ["cus_x"])
    _make_many(other.merchant_id, 3, ["cus_x"])

    body = api.get("/payments").json()

    assert len(body["data"]) == 20 and body["has_more"] is True
    assert {p["merchant_id"] for p in body["data"]} == {api.merchant_id}
    assert len(_page_through(api, 100)) == 25


@pytest.mark.parametrize(
    "params, code, param",
    [
        ({"limit": 0}, "invalid_limit", "limit"),
        ({"limit": 101}, "invalid_limit", "limit"),
        ({"starting_after": "not-a-cursor"}, "invalid_cursor", "starting_after"),
        ({"status": "pending"}, "invalid_literal_error", "status"),
        ({"created_gte": "yesterday"}, "invalid_datetime_from_date_parsing", "created_gte"),
        (
            {"created_gte": "2026-11-02T00:00:00Z", "created_lt": "2026-11-01T00:00:00Z"},
            "invalid_date_range",
            "created_gte",
        ),
    ],
)
def test_bad_list_parameters_are_422(client, dynamodb_backend, params, code, param):
    api = integrator(client)

    response = api.get("/payments", **params)

    assert response.status_code == 422
    body = problem(response)
    assert body["param"] == param
    if code != "invalid_datetime_from_date_parsing":
        assert body["code"] == code


# --- summary ---------------------------------------------------------------------------------


def test_summary_per_currency_and_per_day(client, dynamodb_backend):
    api = integrator(client)
    day = datetime(2026, 11, 20, 10, tzinfo=UTC)
    services.payment_create(
        merchant_id=api.merchant_id, actor=TEST_ACTOR, amount=1000, currency="usd", card=card(), now=day
    )
    refunded = services.payment_create(
        merchant_id=api.merchant_id,
        actor=TEST_ACTOR,
        amount=500,
        currency="usd",
        card=card(),
        now=day + timedelta(days=1),
    )
    services.payment_create(
        merchant_id=api.merchant_id,
        actor=TEST_ACTOR,
        amount=700,
        currency="eur",
        card=card(),
        now=day + timedelta(days=1),
    )
    services.refund_create(
        merchant_id=api.merchant_id,
        payment_id=refunded.payment_id,
        actor=TEST_ACTOR,
        amount=200,
        now=day + timedelta(days=1),
    )

    response = api.get("/payments/summary", created_gte="2026-11-20T00:00:00Z", created_lt="2026-11-23T00:00:00Z")

    assert response.status_code == 200
    body = response.json()
    usd = body["currencies"]["usd"]
    assert (usd["count"], usd["amount"], usd["captured"], usd["refunded"], usd["net"]) == (2, 1500, 1500, 200, 1300)
    assert usd["count_by_status"]["succeeded"] == 1 and usd["count_by_status"]["partially_refunded"] == 1
    assert usd["amount_by_status"]["partially_refunded"] == 500
    assert body["currencies"]["eur"]["captured"] == 700
    assert [d["date"] for d in body["days"]] == ["2026-11-20", "2026-11-21", "2026-11-22"]
    assert body["days"][0]["currencies"]["usd"]["captured"] == 1000
    assert body["days"][1]["currencies"]["usd"]["refunded"] == 200 and body["days"][2]["currencies"] == {}


def test_summary_range_is_limited(client, dynamodb_backend):
    api = integrator(client)

    response = api.get("/payments/summary", created_gte="2020-01-01T00:00:00Z", created_lt="2026-01-01T00:00:00Z")

    assert response.status_code == 422 and problem(response)["code"] == "invalid_date_range"


# --- export ----------------------------------------------------------------------------------

HEADER = (
    "id,created,amount,currency,status,amount_captured,amount_refunded,customer_id,card_brand,card_last4,description"
)


def _export(api, **params) -> tuple:
    response = api.get("/payments/export", **params)
    assert response.status_code == 200 and response.streaming
    text = b"".join(response.streaming_content).decode()
    return response, text


def test_export_streams_csv_with_the_contract_header(client, dynamodb_backend):
    api = integrator(client)
    made = _make_many(api.merchant_id, 30, ["cus_a"])

    response, text = _export(api)

    assert response["Content-Type"].startswith("text/csv")
    assert text.splitlines()[0] == HEADER
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["id"] for r in rows] == [p["id"] for p in sorted(made, key=lambda p: p["id"], reverse=True)]
    first = rows[-1]
    assert (first["amount"], first["currency"], first["card_brand"], first["card_last4"]) == (
        "100",
        "usd",
        "visa",
        "4242",
    )
    assert first["created"].endswith("Z")


def test_export_takes_the_list_filters(client, dynamodb_backend):
    api = integrator(client)
    made = _make_many(api.merchant_id, 20, ["cus_a"])

    _, text = _export(api, status="failed")

    ids = [r["id"] for r in csv.DictReader(io.StringIO(text))]
    assert ids == [p["id"] for p in sorted(made, key=lambda p: p["id"], reverse=True) if p["status"] == "failed"]


@pytest.mark.parametrize("dangerous", ['=HYPERLINK("http://x")', "+1+2", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"])
def test_export_neutralises_formula_cells(client, dynamodb_backend, dangerous):
    api = integrator(client)
    api.create(description=dangerous)

    _, text = _export(api)

    row = next(csv.DictReader(io.StringIO(text)))
    assert row["description"] == "'" + dangerous


def test_export_with_a_bad_filter_is_422_before_streaming(client, dynamodb_backend):
    api = integrator(client)

    response = api.get("/payments/export", starting_after="nope")

    assert response.status_code == 422 and problem(response)["code"] == "invalid_cursor"


def test_summary_and_export_are_not_taken_for_payment_ids(client, dynamodb_backend):
    api = integrator(client)

    assert api.get("/payments/summary").json()["object"] == "payment_summary"
    assert api.get("/payments/export").status_code == 200
