"""Every API request of a merchant is logged after its response: redacted, cut to 16 KB, kept 30
days, found by filters, by `X-Request-Id` and by the payment it touched; one merchant never sees
another's requests; a failing log never changes the answer."""

import json
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.http import JsonResponse

from apilog import services
from apilog.middleware import ApiRequestLogMiddleware
from apilog.models import ApiRequest
from apilog.redaction import MAX_BODY_BYTES, REDACTED
from apilog.selectors import (
    ApiRequestFilters,
    ApiRequestNotFound,
    api_request_find_by_request_id,
    api_request_get,
    api_request_list_for_merchant,
)
from core.ids import now
from tests.factories import make_api_key, make_merchant

pytestmark = pytest.mark.engine

PAN = "4242424242424242"
CARD = {"number": PAN, "exp_month": 12, "exp_year": 2034, "cvc": "123"}


def _call(client, secret, method, path, body=None, *, request_id=None, key=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    if request_id:
        headers["HTTP_X_REQUEST_ID"] = request_id
    if key:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    if method == "GET":
        return client.get(f"/api/v1{path}", **headers)
    return client.post(f"/api/v1{path}", data=json.dumps(body or {}), content_type="application/json", **headers)


def _only(merchant_id):
    page = api_request_list_for_merchant(merchant_id=merchant_id)
    assert len(page.items) == 1
    return page.items[0]


def test_a_payment_request_is_logged_with_its_facts_and_no_card_number(client, dynamodb_backend):
    merchant = make_merchant()
    secret = make_api_key(merchant.merchant_id)
    body = {"amount": 2500, "currency": "usd", "card": CARD, "metadata": {"note": "a-17"}}

    response = _call(client, secret, "POST", "/payments", body, request_id="trace-42", key="order-1")

    entry = _only(merchant.merchant_id)
    payment = response.json()
    assert response.status_code == 201
    assert (entry.method, entry.path, entry.status, entry.request_id) == ("POST", "/api/v1/payments", 201, "trace-42")
    assert entry.idempotency_key == "order-1" and entry.key_id.startswith("key_") and entry.latency_ms >= 0
    assert entry.payment_id == payment["id"]
    assert PAN not in entry.request_body and "123" not in entry.request_body
    logged = json.loads(entry.request_body)
    assert logged["card"]["number"] == REDACTED and logged["card"]["cvc"] == REDACTED
    assert logged["metadata"]["note"] == "a-17" and logged["amount"] == 2500
    assert json.loads(entry.response_body)["id"] == payment["id"]
    raw = ApiRequest.get(merchant.merchant_id, entry.log_id)  # the stored item itself
    assert PAN not in json.dumps(raw.attribute_values, default=str)


def test_a_card_number_in_free_text_is_cut_from_the_logged_body(client, dynamodb_backend):
    merchant = make_merchant()
    secret = make_api_key(merchant.merchant_id)
    body = {"amount": 2500, "currency": "usd", "card": CARD, "metadata": {"note": f"card 4242 4242 4242 4242, {PAN}"}}

    refused = _call(client, secret, "POST", "/payments", body, key="order-2")

    entry = _only(merchant.merchant_id)
    assert refused.status_code == 422 and entry.status == 422
    assert json.loads(entry.request_body)["metadata"]["note"] == f"card {REDACTED}, {REDACTED}"
    assert "4242" not in entry.request_body


def test_a_card_number_in_the_path_or_the_headers_is_cut_out(client, dynamodb_backend):
    merchant = make_merchant()
    secret = make_api_key(merchant.merchant_id)

    response = _call(client, secret, "GET", f"/payments/{PAN}", request_id=PAN)

    entry = _only(merchant.merchant_id)
    assert response.status_code == 404 and entry.status == 404
    assert entry.path == f"/api/v1/payments/{REDACTED}" and entry.request_id == REDACTED
    assert PAN not in json.dumps(entry.attribute_values, default=str)


def test_customer_email_name_and_phone_are_redacted_in_bodies_and_query(client, dynamodb_backend):
    merchant = make_merchant()
    secret = make_api_key(merchant.merchant_id)
    body = {"email": "ada@example.com", "name": "Ada Lovelace", "phone": "+44 20 7946 0000"}

    _call(client, secret, "POST", "/customers", body)
    _call(client, secret, "GET", "/customers?email=ada@example.com")

    entries = api_request_list_for_merchant(merchant_id=merchant.merchant_id).items
    stored = json.dumps([e.attribute_values for e in entries], default=str)
    assert len(entries) == 2
    for secret_text in ("ada@example.com", "ada%40example.com", "Ada Lovelace", "7946"):
        assert secret_text not in stored
    created = entries[1]
    assert created.status == 201 and json.loads(created.request_body)["email"] == REDACTED


def test_a_body_over_16_kb_is_cut_and_flagged(client, dynamodb_backend):
    merchant = make_merchant()
    secret = make_api_key(merchant.merchant_id)
    body = {
        "amount": 2500,
        "currency": "usd",
        "card": CARD,
        "description": "x" * 400,
        "metadata": {f"k{i}": "v" * 400 for i in range(50)},
    }

    _call(client, secret, "POST", "/payments", body, key="big")

    entry = _only(merchant.merchant_id)
    assert entry.request_body_truncated is True and len(entry.request_body.encode()) == MAX_BODY_BYTES
    assert entry.response_body_truncated is True and len(entry.response_body.encode()) == MAX_BODY_BYTES
    assert PAN not in entry.request_body


def test_filters_page_and_find_by_request_id(client, dynamodb_backend):
    merchant = make_merchant()
    secret = make_api_key(merchant.merchant_id)
    other_key = make_api_key(merchant.merchant_id, name="other")
    _call(client, secret, "POST", "/payments", {"amount": 100, "currency": "usd", "card": CARD}, key="a")
    _call(client, secret, "GET", "/payments/pay_01JAAAAAAAAAAAAAAAAAAAAAAA", request_id="missing-1")
    _call(client, other_key, "GET", "/payments")
    mid = merchant.merchant_id

    def listed(**filters):
        return [
            e.status for e in api_request_list_for_merchant(merchant_id=mid, filters=ApiRequestFilters(**filters)).items
        ]

    assert listed() == [200, 404, 201]  # newest first
    assert listed(status="4xx") == [404] and listed(status="201") == [201]
    assert listed(method="post") == [201] and listed(path="/api/v1/payments/pay_") == [404]
    other_key_id = api_request_list_for_merchant(merchant_id=mid).items[0].key_id
    assert listed(key_id=other_key_id) == [200]
    assert listed(created_gte=now() + timedelta(minutes=1)) == []
    assert listed(created_lt=now() + timedelta(minutes=1)) == [200, 404, 201]
    first = api_request_list_for_merchant(merchant_id=mid, limit=2)
    rest = api_request_list_for_merchant(merchant_id=mid, limit=2, starting_after=first.next_cursor)
    assert first.has_more and [e.status for e in rest.items] == [201] and not rest.has_more
    found = api_request_find_by_request_id(merchant_id=mid, request_id="missing-1")
    assert [e.status for e in found] == [404]


def test_the_requests_of_a_payment_are_linked(client, dynamodb_backend):
    merchant = make_merchant()
    secret = make_api_key(merchant.merchant_id)
    created = _call(client, secret, "POST", "/payments", {"amount": 900, "currency": "usd", "card": CARD}, key="p")
    payment_id = created.json()["id"]
    _call(client, secret, "POST", f"/payments/{payment_id}/refunds", {"amount": 100}, key="r")
    _call(client, secret, "GET", "/payments")

    touched = api_request_list_for_merchant(
        merchant_id=merchant.merchant_id, filters=ApiRequestFilters(payment_id=payment_id)
    ).items

    assert [e.path for e in touched] == [f"/api/v1/payments/{payment_id}/refunds", "/api/v1/payments"]
    assert [e.method for e in touched] == ["POST", "POST"]


def test_a_merchant_never_sees_another_merchants_requests(client, dynamodb_backend):
    mine, theirs = make_merchant(), make_merchant()
    response = _call(client, make_api_key(theirs.merchant_id), "GET", "/payments", request_id="shared-id")
    _call(client, make_api_key(mine.merchant_id), "GET", "/merchant", request_id="mine-only")
    their_entry = _only(theirs.merchant_id)

    assert response.status_code == 200
    assert [e.path for e in api_request_list_for_merchant(merchant_id=mine.merchant_id).items] == ["/api/v1/merchant"]
    assert api_request_find_by_request_id(merchant_id=mine.merchant_id, request_id="shared-id") == []
    with pytest.raises(ApiRequestNotFound):
        api_request_get(merchant_id=mine.merchant_id, log_id=their_entry.log_id)


def test_entries_past_30_days_are_absent_though_not_yet_deleted(client, dynamodb_backend):
    merchant = make_merchant()
    _call(client, make_api_key(merchant.merchant_id), "GET", "/payments", request_id="old-1")
    entry = _only(merchant.merchant_id)
    later = now() + timedelta(days=30, minutes=1)

    assert api_request_get(merchant_id=merchant.merchant_id, log_id=entry.log_id).log_id == entry.log_id
    assert abs(entry.expires_at - entry.created - timedelta(days=30)) < timedelta(seconds=1)
    assert api_request_list_for_merchant(merchant_id=merchant.merchant_id, now=later).items == []
    assert api_request_find_by_request_id(merchant_id=merchant.merchant_id, request_id="old-1", now=later) == []
    with pytest.raises(ApiRequestNotFound):
        api_request_get(merchant_id=merchant.merchant_id, log_id=entry.log_id, now=later)


def test_requests_without_a_valid_key_and_pages_are_not_logged(client, dynamodb_backend):
    merchant = make_merchant()

    refused = client.get("/api/v1/payments", HTTP_AUTHORIZATION="Bearer sk_test_nothing")

    assert refused.status_code == 401
    assert api_request_list_for_merchant(merchant_id=merchant.merchant_id).items == []


def test_a_failing_log_write_does_not_change_the_answer(client, dynamodb_backend, monkeypatch):
    merchant = make_merchant()
    secret = make_api_key(merchant.merchant_id)

    def broken(self, *args, **kwargs):
        raise RuntimeError("the log table is gone")

    monkeypatch.setattr(ApiRequest, "save", broken)
    response = _call(client, secret, "POST", "/payments", {"amount": 700, "currency": "usd", "card": CARD}, key="k")

    assert response.status_code == 201 and response.json()["amount"] == 700
    monkeypatch.undo()
    assert api_request_list_for_merchant(merchant_id=merchant.merchant_id).items == []


def test_the_entry_is_written_when_the_response_is_closed_not_before(rf, db, dynamodb_backend):
    """A WSGI server calls `close()` after it sent the body: only then is the PutItem made."""
    merchant = make_merchant()
    request = rf.get("/api/v1/merchant")
    request.request_id = "closed-1"

    def view(request):
        request.auth = SimpleNamespace(merchant_id=merchant.merchant_id, key=SimpleNamespace(key_id="key_1"))
        return JsonResponse({"id": merchant.merchant_id})

    response = ApiRequestLogMiddleware(view)(request)
    before_close = api_request_list_for_merchant(merchant_id=merchant.merchant_id).items
    response.close()

    assert response.status_code == 200 and before_close == []
    assert [e.request_id for e in api_request_list_for_merchant(merchant_id=merchant.merchant_id).items] == ["closed-1"]


def test_lambda_invocations_write_their_requests_in_one_batch_at_the_end(client, dynamodb_backend):
    merchant = make_merchant()
    secret = make_api_key(merchant.merchant_id)

    with services.api_requests_batched():
        _call(client, secret, "GET", "/payments", request_id="batched-1")
        _call(client, secret, "GET", "/merchant", request_id="batched-2")
        during = api_request_list_for_merchant(merchant_id=merchant.merchant_id).items

    after = api_request_list_for_merchant(merchant_id=merchant.merchant_id).items
    assert during == [] and [e.request_id for e in after] == ["batched-2", "batched-1"]
