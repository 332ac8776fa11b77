"""Hostile input without a fuzzer: oversized and malformed headers and bodies, invalid Idempotency-Keys,
bad cursors and other merchants' ids on every list and object endpoint, hostile settlement files.
Never a 5xx; always problem+json with the documented status, code and param."""

from __future__ import annotations

import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from audit.models import AuditEvent
from tests.payments.helpers import integrator, new_key, payment_body, problem
from tests.reliability.settlements import AT_THE_LIMITS, HOSTILE_FILES, settlement_with_a_discrepancy

pytestmark = pytest.mark.django_db

BAD_KEYS = {
    "256-chars": "x" * 256,
    "100k-chars": "k" * 100_000,
    "tab": "tab\there",
    "non-ascii": "ünïcode",
    "line-break": "line\nbreak",
    "del": "\x7f",
}


@pytest.mark.parametrize("key", BAD_KEYS.values(), ids=BAD_KEYS.keys())
def test_an_invalid_idempotency_key_is_400_and_writes_nothing(key):
    api = integrator()

    response = api.post("/payments", payment_body(), key=key)

    assert response.status_code == 400, response.content
    body = problem(response)
    assert (body["code"], body["param"]) == ("idempotency_key_invalid", "Idempotency-Key")
    assert api.get("/payments").json()["data"] == []


def test_a_missing_idempotency_key_is_400_and_writes_nothing():
    api = integrator()

    response = api.post("/payments", payment_body(), key=None)

    assert response.status_code == 400, response.content
    body = problem(response)
    assert (body["code"], body["param"]) == ("idempotency_key_missing", "Idempotency-Key")
    assert api.get("/payments").json()["data"] == []


# --- cursors ---------------------------------------------------------------------------------

MALFORMED_CURSORS = {
    "words": "not-a-cursor",
    "bare-prefix": "pay_",
    "not-a-ulid": "pay_" + "Z" * 26,
    "short-customer-id": "cus_01ABC",
    "sql": "'; DROP TABLE payments;--",
    "percent-nul": "%00",
    "5000-chars": "a" * 5000,
}
# What each list answers a `starting_after` that is not one of its ids. The payments list and the
# audit log validate it (422 `invalid_cursor`); customers and settlements look it up (404).
CURSOR_REFUSALS = {
    "/payments": (422, "invalid_cursor"),
    "/audit-events": (422, "invalid_cursor"),
    "/customers": (404, "resource_missing"),
    "/settlements": (404, "resource_missing"),
}


def _answer(response) -> tuple[int, str, str | None, str | None]:
    body = json.loads(response.content)
    return response.status_code, response["Content-Type"], body.get("code"), body.get("param")


@pytest.mark.parametrize("path", CURSOR_REFUSALS)
def test_bad_cursors_on_every_list_are_4xx_never_5xx(path):
    api = integrator()
    api.create()

    answers = {name: _answer(api.get(path, starting_after=cursor)) for name, cursor in MALFORMED_CURSORS.items()}

    status, code = CURSOR_REFUSALS[path]
    assert answers == dict.fromkeys(MALFORMED_CURSORS, (status, "application/problem+json", code, "starting_after"))


# An empty `starting_after` is refused like any bad cursor, except by the settlements list, which
# takes it for "no cursor" and answers the first page.
EMPTY_CURSOR = {
    "/payments": (422, "invalid_cursor"),
    "/audit-events": (422, "invalid_cursor"),
    "/customers": (404, "resource_missing"),
    "/settlements": (200, None),
}


@pytest.mark.parametrize("path", EMPTY_CURSOR)
def test_an_empty_cursor_on_every_list(path):
    api = integrator()
    api.create()

    response = api.get(path, starting_after="")

    status, code = EMPTY_CURSOR[path]
    assert response.status_code == status, response.content[:300]
    if code is None:
        assert response.json() == api.get(path).json()
    else:
        body = problem(response)
        assert (body["code"], body["param"]) == (code, "starting_after")


# --- headers and bodies ----------------------------------------------------------------------

MALFORMED_AUTHORIZATION = {
    "10k-bearer": "Bearer " + "s" * 10_000,
    "basic": "Basic dXNlcjpwYXNz",
    "bearer-alone": "Bearer",
    "control-chars": "Bearer sk_test_\x00\x01",
}


@pytest.mark.parametrize("authorization", MALFORMED_AUTHORIZATION.values(), ids=MALFORMED_AUTHORIZATION.keys())
def test_a_malformed_authorization_header_is_401_problem_json(authorization):
    response = Client().post(
        "/api/v1/payments",
        data=json.dumps(payment_body()),
        content_type="application/json",
        HTTP_AUTHORIZATION=authorization,
        HTTP_IDEMPOTENCY_KEY=new_key(),
    )

    assert response.status_code == 401, response.content[:300]
    assert problem(response)["code"] == "authentication_required"


UNSAFE_REQUEST_IDS = {"10k-chars": "r" * 10_000, "spaces": "my request", "markup": "<script>", "129-chars": "r" * 129}


@pytest.mark.parametrize("given", UNSAFE_REQUEST_IDS.values(), ids=UNSAFE_REQUEST_IDS.keys())
def test_an_unsafe_x_request_id_is_replaced_not_echoed(given):
    api = integrator()

    response = api.client.post(
        "/api/v1/payments",
        data=json.dumps(payment_body()),
        content_type="application/json",
        HTTP_X_REQUEST_ID=given,
        **api.headers(new_key()),
    )

    assert response.status_code == 201, response.content[:300]
    assert re.fullmatch(r"req_[0-9A-Z]{26}", response["X-Request-Id"]), response["X-Request-Id"][:200]


def test_a_sane_x_request_id_is_echoed():
    api = integrator()

    response = api.client.get("/api/v1/merchant", HTTP_X_REQUEST_ID="trace-1.2:3_" + "r" * 116, **api.headers())

    assert response.status_code == 200
    assert response["X-Request-Id"] == "trace-1.2:3_" + "r" * 116


UNPARSEABLE_BODIES = {
    "text-plain": ("text/plain", "amount=1"),
    "form": ("application/x-www-form-urlencoded", "amount=1"),
    "broken-json": ("application/json", "{not json"),
}


@pytest.mark.parametrize(("content_type", "raw"), UNPARSEABLE_BODIES.values(), ids=UNPARSEABLE_BODIES.keys())
def test_an_unparseable_body_is_400_and_writes_nothing(content_type, raw):
    api = integrator()

    response = api.client.post("/api/v1/payments", data=raw, content_type=content_type, **api.headers(new_key()))

    assert response.status_code == 400, response.content[:300]
    assert problem(response)["code"] == "http_400"
    assert api.get("/payments").json()["data"] == []


def test_a_json_body_that_is_not_an_object_is_422_naming_the_body():
    api = integrator()

    response = api.post("/payments", raw="[]")

    assert response.status_code == 422, response.content[:300]
    assert problem(response)["param"] == "body"
    assert api.get("/payments").json()["data"] == []


# --- other merchants' ids --------------------------------------------------------------------


@pytest.fixture
def globex(settings, tmp_path):
    """Another merchant, its key, and objects it made with that key: a succeeded payment, an
    authorized one, a customer, a settlement."""
    settings.STORAGES = {
        **settings.STORAGES,
        "settlements": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "settlements"},
        },
    }
    owner = integrator(name="Globex")
    customer = owner.post("/customers", {"email": "buyer@globex.example"})
    assert customer.status_code == 201, customer.content
    settlement_id, _, _ = settlement_with_a_discrepancy(owner.merchant_id, owner.secret)
    ids = {
        "payment": owner.create()["id"],
        "authorized": owner.create(capture=False)["id"],
        "customer": customer.json()["id"],
        "settlement": settlement_id,
    }
    return owner, ids


# (method, path, what the owner reads to see the object is there and unchanged)
FOREIGN_OBJECTS = {
    "payment": ("GET", "/payments/{payment}", "/payments/{payment}"),
    "refund": ("POST", "/payments/{payment}/refunds", "/payments/{payment}"),
    "capture": ("POST", "/payments/{authorized}/capture", "/payments/{authorized}"),
    "cancel": ("POST", "/payments/{authorized}/cancel", "/payments/{authorized}"),
    "customer": ("GET", "/customers/{customer}", "/customers/{customer}"),
    "settlement": ("GET", "/settlements/{settlement}", "/settlements/{settlement}"),
    "discrepancies": ("GET", "/settlements/{settlement}/discrepancies", "/settlements/{settlement}/discrepancies"),
}


@pytest.mark.parametrize(("method", "path", "owner_path"), FOREIGN_OBJECTS.values(), ids=FOREIGN_OBJECTS.keys())
def test_other_merchants_ids_are_404_on_every_object_endpoint(globex, method, path, owner_path):
    api = integrator()
    owner, ids = globex
    before = owner.get(owner_path.format(**ids))
    assert before.status_code == 200, before.content[:300]

    response = api.get(path.format(**ids)) if method == "GET" else api.post(path.format(**ids), {})

    assert response.status_code == 404, response.content[:300]
    assert problem(response)["code"] == "resource_missing"
    after = owner.get(owner_path.format(**ids))
    assert after.status_code == 200 and after.json() == before.json()


NONSENSE_PATHS = {
    "unknown-customer": "/customers/cus_01AAAAAAAAAAAAAAAAAAAAAAAA",
    "unknown-settlement": "/settlements/set_01AAAAAAAAAAAAAAAAAAAAAAAA",
    "unknown-settlement-discrepancies": "/settlements/set_01AAAAAAAAAAAAAAAAAAAAAAAA/discrepancies",
    "500-char-id": "/payments/pay_" + "A" * 500,
    "encoded-traversal": "/payments/..%2F..%2Fmerchant",
}


@pytest.mark.parametrize("path", NONSENSE_PATHS.values(), ids=NONSENSE_PATHS.keys())
def test_unknown_and_nonsense_ids_are_404(path):
    api = integrator()

    response = api.get(path)

    assert response.status_code == 404, response.content[:300]
    assert problem(response)["code"] == "resource_missing"


def test_filtering_by_another_merchants_customer_shows_none_of_their_payments(globex):
    api = integrator()
    api.create()  # ours, without a customer: a filter that was ignored would list it
    owner, ids = globex
    theirs = owner.create(customer_id=ids["customer"])
    for_owner = owner.get("/payments", customer_id=ids["customer"])
    assert [p["id"] for p in for_owner.json()["data"]] == [theirs["id"]]

    response = api.get("/payments", customer_id=ids["customer"])

    assert response.status_code == 200, response.content[:300]
    assert response.json()["data"] == []


# --- dates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "listed"),
    [({"created_lt": "0"}, False), ({"created_gte": "0"}, True), ({"created_lt": "1969-12-31T23:59:59Z"}, False)],
    ids=["created_lt=0", "created_gte=0", "created_lt=1969"],
)
def test_dates_at_and_before_1970_are_answered_not_500(params, listed):
    """Found by schemathesis: `created_lt=0` made the ULID bound negative (500)."""
    api = integrator()
    paid = api.create()

    listed_response = api.get("/payments", **params)
    exported = api.get("/payments/export", **params)

    assert listed_response.status_code == 200, listed_response.content[:200]
    assert exported.status_code == 200, exported.content[:200]
    assert [p["id"] for p in listed_response.json()["data"]] == ([paid["id"]] if listed else [])
    rows = b"".join(exported.streaming_content).decode().splitlines()
    assert [row.split(",")[0] for row in rows[1:]] == ([paid["id"]] if listed else [])


# --- settlement files ------------------------------------------------------------------------


def _upload(api, name: str, content: bytes):
    upload = SimpleUploadedFile(f"{name}.csv", content, content_type="text/csv")
    return api.client.post("/api/v1/settlements", {"file": upload}, **api.headers())


@pytest.mark.parametrize("hostile", HOSTILE_FILES, ids=[f.name for f in HOSTILE_FILES])
def test_a_hostile_settlement_file_is_refused_whole_with_its_code_and_nothing_stored(hostile, settlement_files):
    api = integrator()

    response = _upload(api, hostile.name, hostile.build())

    assert response.status_code == 422, response.content[:300]
    body = problem(response)
    assert (body["code"], body["param"]) == (hostile.code, "file")
    assert hostile.reason in body["detail"], body["detail"]
    assert len(body["detail"]) <= 300, body["detail"]
    assert api.get("/settlements").json()["data"] == []
    assert not settlement_files.exists() or list(settlement_files.rglob("*.csv")) == []
    (audited,) = [e for e in AuditEvent.query(api.merchant_id) if e.action == "settlement.upload"]
    assert (audited.outcome, audited.detail) == ("failure", f"{hostile.code}: {body['detail']}")


def test_the_hostile_corpus_has_25_files_and_documents_every_code(client):
    upload = client.get("/api/v1/openapi.json").json()["paths"]["/api/v1/settlements"]["post"]

    assert len(HOSTILE_FILES) >= 25 and len({f.name for f in HOSTILE_FILES}) == len(HOSTILE_FILES)
    assert sorted({f.code for f in HOSTILE_FILES if f"`{f.code}`" not in upload["description"]}) == []


@pytest.mark.parametrize("at_limit", AT_THE_LIMITS, ids=[f.name for f in AT_THE_LIMITS])
def test_a_settlement_file_exactly_at_a_limit_is_accepted(at_limit):
    api = integrator()

    response = _upload(api, at_limit.name, at_limit.build())

    assert response.status_code == 202, response.content[:300]
    assert response.json()["rows_total"] == 1
