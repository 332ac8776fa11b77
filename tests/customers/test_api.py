import json

import boto3
import pytest

from audit.models import AuditEvent
from core import dynamodb
from customers.models import Customer
from tests.factories import make_api_key, make_merchant

pytestmark = pytest.mark.engine

ALICE = {"email": "Alice@Example.com", "name": "Alice Liddell", "phone": "+44 20 7946 0000", "metadata": {"crm": "A-1"}}


@pytest.fixture
def merchant_secret():
    merchant = make_merchant()
    return merchant, make_api_key(merchant.merchant_id)


def _post(client, secret, body):
    return client.post(
        "/api/v1/customers",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )


def _get(client, secret, path, **params):
    return client.get(path, params, HTTP_AUTHORIZATION=f"Bearer {secret}")


def test_create_returns_201_with_the_clear_fields(client, merchant_secret, dynamodb_backend):
    _, secret = merchant_secret

    response = _post(client, secret, ALICE)

    assert response.status_code == 201
    body = response.json()
    assert body["id"].startswith("cus_") and body["object"] == "customer"
    assert (body["email"], body["name"], body["phone"]) == ("Alice@Example.com", "Alice Liddell", "+44 20 7946 0000")
    assert body["metadata"] == {"crm": "A-1"}
    assert body["created"].endswith("Z")


def test_only_email_is_required(client, merchant_secret, dynamodb_backend):
    _, secret = merchant_secret

    response = _post(client, secret, {"email": "bob@example.com"})

    assert response.status_code == 201
    assert (response.json()["name"], response.json()["phone"], response.json()["metadata"]) == (None, None, {})


def test_get_returns_the_same_customer(client, merchant_secret, dynamodb_backend):
    _, secret = merchant_secret
    created = _post(client, secret, ALICE).json()

    response = _get(client, secret, f"/api/v1/customers/{created['id']}")

    assert response.status_code == 200
    assert response.json() == created


def test_another_merchants_customer_is_404_like_a_missing_one(client, merchant_secret, dynamodb_backend):
    _, secret = merchant_secret
    other = make_merchant()
    theirs = _post(client, make_api_key(other.merchant_id), ALICE).json()

    foreign = _get(client, secret, f"/api/v1/customers/{theirs['id']}")
    missing = _get(client, secret, "/api/v1/customers/cus_01JZZZZZZZZZZZZZZZZZZZZZZZ")
    malformed = _get(client, secret, "/api/v1/customers/nope")

    assert foreign.status_code == missing.status_code == malformed.status_code == 404
    assert foreign["Content-Type"] == "application/problem+json"
    assert foreign.json()["code"] == missing.json()["code"] == "resource_missing"
    assert theirs["email"] not in foreign.content.decode()


@pytest.mark.parametrize(
    "email", ["not-an-email", "", "a@", "@example.com", "two@@example.com", "x" * 250 + "@example.com"]
)
def test_bad_email_is_422_with_code_and_param(client, merchant_secret, email, dynamodb_backend):
    _, secret = merchant_secret

    response = _post(client, secret, {"email": email, "name": "X"})

    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert (response.json()["code"], response.json()["param"]) == ("invalid_email", "email")


def test_missing_email_and_unknown_fields_are_422(client, merchant_secret, dynamodb_backend):
    _, secret = merchant_secret

    missing = _post(client, secret, {"name": "No Email"})
    unknown = _post(client, secret, {"email": "a@example.com", "nickname": "A"})

    assert missing.status_code == unknown.status_code == 422
    assert (missing.json()["code"], missing.json()["param"]) == ("parameter_missing", "email")
    assert (unknown.json()["code"], unknown.json()["param"]) == ("unknown_parameter", "nickname")


def test_bad_metadata_is_422(client, merchant_secret, dynamodb_backend):
    _, secret = merchant_secret

    response = _post(client, secret, {"email": "a@example.com", "metadata": {"k" * 41: "v"}})

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_metadata"


def test_list_pages_newest_first_each_customer_once(client, merchant_secret, dynamodb_backend):
    _, secret = merchant_secret
    created = [_post(client, secret, {"email": f"c{i}@example.com"}).json()["id"] for i in range(7)]
    make_merchant_customers = _post(client, make_api_key(make_merchant().merchant_id), ALICE)
    assert make_merchant_customers.status_code == 201

    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 3, **({"starting_after": cursor} if cursor else {})}
        body = _get(client, secret, "/api/v1/customers", **params).json()
        assert body["object"] == "list" and len(body["data"]) <= 3
        seen += [customer["id"] for customer in body["data"]]
        pages += 1
        if not body["has_more"]:
            assert body["next_cursor"] is None
            break
        cursor = body["next_cursor"]
        assert cursor == body["data"][-1]["id"]

    assert seen == list(reversed(created))
    assert pages == 3


def test_list_filters_by_exact_email_case_insensitively(client, merchant_secret, dynamodb_backend):
    merchant, secret = merchant_secret
    alice = _post(client, secret, ALICE).json()
    _post(client, secret, {"email": "alice@example.org"})
    _post(client, make_api_key(make_merchant().merchant_id), ALICE)  # same email, another merchant

    found = _get(client, secret, "/api/v1/customers", email="  alice@EXAMPLE.com ").json()
    none = _get(client, secret, "/api/v1/customers", email="alice@example").json()

    assert [c["id"] for c in found["data"]] == [alice["id"]]
    assert found["has_more"] is False
    assert none["data"] == []


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"limit": "x"}])
def test_list_rejects_bad_limits(client, merchant_secret, params, dynamodb_backend):
    _, secret = merchant_secret

    response = _get(client, secret, "/api/v1/customers", **params)

    assert response.status_code == 422
    assert response.json()["param"] == "limit"


def test_list_with_a_malformed_cursor_is_404(client, merchant_secret, dynamodb_backend):
    _, secret = merchant_secret

    response = _get(client, secret, "/api/v1/customers", starting_after="pay_01JZZZZZZZZZZZZZZZZZZZZZZZ")

    assert response.status_code == 404
    assert response.json()["param"] == "starting_after"


def test_customers_need_an_api_key(client, dynamodb_backend):
    assert client.get("/api/v1/customers").status_code == 401
    assert client.post("/api/v1/customers", data="{}", content_type="application/json").status_code == 401


def _raw_items(table_base: str) -> list[dict]:
    """The stored items exactly as DynamoDB holds them (a Scan, in a test only)."""
    config = dynamodb._config()
    client = boto3.client("dynamodb", endpoint_url=config["ENDPOINT"], region_name=config["REGION"])
    return client.scan(TableName=dynamodb.table_name(table_base))["Items"]


def test_stored_items_show_no_personal_data_in_clear(client, merchant_secret, dynamodb_backend):
    _, secret = merchant_secret
    created = _post(client, secret, ALICE).json()

    stored = json.dumps(_raw_items(Customer.Meta.base_name) + _raw_items(AuditEvent.Meta.base_name))

    assert created["id"] in stored
    for clear in ("Alice@Example.com", "alice@example.com", "Alice Liddell", "Liddell", "7946"):
        assert clear not in stored
    assert "A-1" in stored  # metadata is not personal data and stays readable


def _post_keyed(client, secret, body, key):
    return client.post(
        "/api/v1/customers",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def test_an_optional_idempotency_key_makes_a_retry_return_the_same_customer(client, merchant_secret, dynamodb_backend):
    _, secret = merchant_secret

    first = _post_keyed(client, secret, ALICE, "signup-42")
    again = _post_keyed(client, secret, ALICE, "signup-42")
    other_body = _post_keyed(client, secret, {**ALICE, "name": "Someone Else"}, "signup-42")

    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert other_body.status_code == 422 and other_body.json()["code"] == "idempotency_key_reused"
    listed = _get(client, secret, "/api/v1/customers").json()["data"]
    assert [c["id"] for c in listed] == [first.json()["id"]]


def test_a_rejected_create_does_not_use_up_its_idempotency_key(client, merchant_secret, dynamodb_backend):
    _, secret = merchant_secret

    bad = _post_keyed(client, secret, {"email": "nope"}, "k-1")
    fixed = _post_keyed(client, secret, {"email": "fixed@example.com"}, "k-1")
    invalid_key = _post_keyed(client, secret, ALICE, "x" * 256)

    assert bad.status_code == 422
    assert fixed.status_code == 201 and "Idempotent-Replayed" not in fixed
    assert invalid_key.status_code == 400 and invalid_key.json()["code"] == "idempotency_key_invalid"
