"""/api/v1/openapi.json and /api/v1/docs document every payments operation, parameter, response code
and the idempotency rules."""

import pytest

OPERATIONS = {
    ("post", "/api/v1/payments"): {"201", "400", "401", "402", "404", "409", "413", "422", "429", "502", "503", "504"},
    ("post", "/api/v1/payments/{payment_id}/capture"): {"200", "400", "401", "404", "409", "422", "429"},
    ("post", "/api/v1/payments/{payment_id}/cancel"): {"200", "400", "401", "404", "409", "429"},
    ("post", "/api/v1/payments/{payment_id}/refunds"): {"201", "400", "401", "404", "409", "422", "429"},
    ("get", "/api/v1/payments"): {"200", "401", "422", "429"},
    ("get", "/api/v1/payments/summary"): {"200", "401", "422", "429"},
    ("get", "/api/v1/payments/export"): {"200", "401", "422", "429"},
    ("get", "/api/v1/payments/{payment_id}"): {"200", "401", "404", "429"},
}


@pytest.fixture
def spec(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def test_every_operation_declares_its_response_codes(spec):
    for (method, path), codes in OPERATIONS.items():
        responses = spec["paths"][path][method]["responses"]
        assert codes <= set(responses), (method, path, codes - set(responses))
        for code in codes - {"200", "201"}:
            assert responses[code]["content"]["application/json"]["schema"]["$ref"].endswith("/Problem"), (path, code)


def test_money_moving_posts_require_an_idempotency_key_documented_with_its_rules(spec):
    for method, path in OPERATIONS:
        if method != "post":
            continue
        operation = spec["paths"][path][method]
        header = next(p for p in operation["parameters"] if p["name"] == "Idempotency-Key")
        assert header["in"] == "header" and header["required"] is True
        assert header["schema"]["maxLength"] == 255
        assert "24 hours" in header["description"] and "merchant" in header["description"]
        assert "idempotency_key_reused" in operation["description"]
        assert "idempotency_key_in_use" in operation["description"]
        success = "201" if path.endswith(("payments", "refunds")) else "200"
        assert "Idempotent-Replayed" in operation["responses"][success]["headers"]


def test_list_parameters_are_documented(spec):
    names = {p["name"] for p in spec["paths"]["/api/v1/payments"]["get"]["parameters"]}

    assert {"limit", "starting_after", "status", "customer_id", "created_gte", "created_lt"} <= names


def test_export_documents_csv(spec):
    ok = spec["paths"]["/api/v1/payments/export"]["get"]["responses"]["200"]

    assert "text/csv" in ok["content"]
    assert (
        "id,created,amount,currency,status,amount_captured,amount_refunded,customer_id,card_brand,card_last4,description"
        in ok["description"]
    )


def test_problem_schema_has_the_contract_fields(spec):
    problem = spec["components"]["schemas"]["Problem"]["properties"]

    assert {"type", "title", "status", "detail", "code", "param", "errors", "payment_id"} <= set(problem)


def test_docs_page_is_served(client):
    response = client.get("/api/v1/docs")

    assert response.status_code == 200 and b"openapi.json" in response.content
