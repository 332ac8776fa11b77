"""The compliance report's stored-data scan reads the request log's bodies: what the API logged holds
no card data, and a card number that got into a log item anyway is reported there."""

import json

import pytest

from apilog.models import ApiRequest
from apilog.services import RETENTION
from compliance.scan import stored_data_scan
from core import dynamodb
from core.ids import now
from tests.factories import make_api_key, make_merchant

FULL_WIDTH_VISA = "４２４２４２４２４２４２４２４２"


def _post(client, secret, body, key):
    return client.post(
        "/api/v1/payments",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def test_logged_api_requests_leave_nothing_for_the_scan_to_find(client):
    merchant = make_merchant()
    secret = make_api_key(merchant.merchant_id)
    card = {"number": "4000 0000 0000 0002", "exp_month": 12, "exp_year": 2034, "card_verification_code": "123"}
    _post(client, secret, {"amount": 500, "currency": "usd", "card": card}, "scan-1")
    _post(client, secret, {"amount": 500, "currency": "usd", "card": card, "description": FULL_WIDTH_VISA}, "scan-2")

    result = stored_data_scan()

    log_table = dynamodb.table_name("api_requests")
    assert any(table.table == log_table and table.scanned == 2 for table in result.tables)
    assert [found for found in result.found if found.table == log_table] == []


@pytest.mark.parametrize("truncated", [False, True], ids=["json", "cut-json"])
def test_a_card_number_in_a_log_body_is_reported(truncated):
    """Corrupt data: an item written by hand, as a bug in the redaction would have written it."""
    body = json.dumps({"card": {"number": "4242424242424242"}}) + ("x" * 20 if truncated else "")
    ApiRequest(
        "mer_1",
        "log_01JAAAAAAAAAAAAAAAAAAAAAAA",
        request_id="req-1",
        merchant_request_id="mer_1#req-1",
        method="POST",
        path="/api/v1/payments",
        status=201,
        latency_ms=3,
        request_body=body[:-10] if truncated else body,
        expires_at=now() + RETENTION,
    ).save()

    found = [f for f in stored_data_scan().found if f.table == dynamodb.table_name("api_requests")]

    assert [(f.path, f.what) for f in found] == [
        ("request_body" if truncated else "request_body.card.number", "card number …4242 (16 digits)")
    ]
