"""Developers → Logs: admins list the API requests with filters and paging, find one by its
X-Request-Id and open it with redacted bodies; a payment's page links its requests."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import make_api_key, make_merchant

LOGS = reverse("developers:request-log")
PAN = "4242424242424242"


def _api(merchant, method, path, body=None, *, request_id, key=None):
    api = Client()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {make_api_key(merchant.merchant_id)}", "HTTP_X_REQUEST_ID": request_id}
    if key:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    if method == "GET":
        return api.get(f"/api/v1{path}", **headers)
    return api.post(f"/api/v1{path}", data=json.dumps(body), content_type="application/json", **headers)


def _card_payment(merchant, request_id):
    body = {"amount": 1200, "currency": "usd", "card": {"number": PAN, "exp_month": 12, "exp_year": 2034, "cvc": "987"}}
    return _api(merchant, "POST", "/payments", body, request_id=request_id, key=request_id)


def _rows(response):
    return response.content.decode().count("data-log-id=")


@pytest.mark.engine
def test_admin_finds_a_request_by_its_id_and_sees_its_redacted_bodies(as_role, merchant, dynamodb_backend):
    payment = _card_payment(merchant, "checkout-7").json()
    _api(merchant, "GET", "/payments", request_id="list-1")
    client = as_role("admin")

    everything = client.get(LOGS)
    found = client.get(LOGS, {"request_id": "checkout-7"})
    log_id = found.content.decode().split('data-log-id="')[1].split('"')[0]
    detail = client.get(reverse("developers:request-detail", args=[log_id]))

    assert everything.status_code == 200 and _rows(everything) == 2
    assert found.status_code == 200 and _rows(found) == 1 and b"checkout-7" in found.content
    assert detail.status_code == 200 and payment["id"] in detail.content.decode()
    assert b"[redacted]" in detail.content and PAN.encode() not in detail.content and b"987" not in detail.content


def test_filters_by_status_method_path_and_key_and_pages(as_role, merchant):
    _card_payment(merchant, "ok-1")
    _api(merchant, "GET", "/payments/pay_01JAAAAAAAAAAAAAAAAAAAAAAA", request_id="miss-1")
    _api(merchant, "GET", "/merchant", request_id="me-1")
    client = as_role("admin")

    assert _rows(client.get(LOGS, {"status": "4xx"})) == 1
    assert _rows(client.get(LOGS, {"status": "201"})) == 1
    assert _rows(client.get(LOGS, {"method": "GET"})) == 2
    assert _rows(client.get(LOGS, {"path": "/api/v1/merchant"})) == 1
    assert _rows(client.get(LOGS, {"date_from": "2000-01-01", "date_to": "2000-01-02"})) == 0
    refused = client.get(LOGS, {"status": "abc"})
    assert refused.status_code == 200 and b"A status code such as 404" in refused.content and _rows(refused) == 0
    fragment = client.get(LOGS, {"method": "POST"}, HTTP_HX_REQUEST="true")
    assert _rows(fragment) == 1 and b"<html" not in fragment.content


def test_a_page_of_50_links_to_the_older_ones(as_role, merchant, monkeypatch):
    monkeypatch.setattr("dashboard.views.logs.PAGE_SIZE", 2)
    for index in range(3):
        _api(merchant, "GET", "/merchant", request_id=f"r-{index}")
    client = as_role("admin")

    first = client.get(LOGS)
    older = first.content.decode().split('rel="next" href="')[1].split('"')[0].replace("&amp;", "&")
    second = client.get(LOGS + older)

    assert _rows(first) == 2 and _rows(second) == 1 and b"r-0" in second.content


def test_another_merchants_request_is_not_found_and_viewers_are_refused(as_role, merchant):
    theirs = make_merchant("Globex")
    _api(theirs, "GET", "/merchant", request_id="theirs-1")
    client = as_role("admin")

    assert _rows(client.get(LOGS, {"request_id": "theirs-1"})) == 0
    assert client.get(reverse("developers:request-detail", args=["log_01JAAAAAAAAAAAAAAAAAAAAAAA"])).status_code == 404
    viewer = as_role("viewer")
    assert viewer.get(LOGS).status_code == 403


def test_a_payments_page_links_the_requests_that_touched_it(as_role, merchant):
    payment_id = _card_payment(merchant, "pay-1").json()["id"]
    _api(merchant, "GET", "/merchant", request_id="other-1")
    client = as_role("admin")

    page = client.get(reverse("payments:payment-detail", args=[payment_id]))
    touched = client.get(LOGS, {"payment": payment_id})

    assert f"?payment={payment_id}".encode() in page.content
    assert _rows(touched) == 1 and b"pay-1" in touched.content
