"""Helpers for the payments API tests: a merchant with a key, and JSON calls as an integrator makes them."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Any

from django.test import Client

from tests.factories import make_api_key, make_merchant

VISA = "4242424242424242"
_keys = itertools.count(1)


def new_key() -> str:
    return f"key-{next(_keys)}"


def card_body(number: str = VISA, **overrides: Any) -> dict[str, Any]:
    return {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123", **overrides}


def payment_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"amount": 2500, "currency": "usd", "card": card_body()}
    body.update(overrides)
    return body


@dataclass
class Integrator:
    client: Client
    merchant_id: str
    secret: str

    def headers(self, key: str | None = None) -> dict[str, str]:
        headers = {"HTTP_AUTHORIZATION": f"Bearer {self.secret}"}
        if key is not None:
            headers["HTTP_IDEMPOTENCY_KEY"] = key
        return headers

    def post(self, path: str, body: Any = None, *, key: str | None = "auto", raw: str | bytes | None = None):
        if key == "auto":
            key = new_key()
        data = raw if raw is not None else ("" if body is None else json.dumps(body))
        return self.client.post(f"/api/v1{path}", data=data, content_type="application/json", **self.headers(key))

    def get(self, path: str, **params: Any):
        return self.client.get(f"/api/v1{path}", params, **self.headers())

    def create(self, **overrides: Any) -> dict[str, Any]:
        response = self.post("/payments", payment_body(**overrides))
        assert response.status_code == 201, response.content
        return response.json()


def integrator(client: Client | None = None, **merchant: Any) -> Integrator:
    created = make_merchant(**merchant) if merchant else make_merchant()
    return Integrator(
        client=client or Client(), merchant_id=created.merchant_id, secret=make_api_key(created.merchant_id)
    )


def problem(response) -> dict[str, Any]:
    assert response["Content-Type"] == "application/problem+json", response["Content-Type"]
    body = json.loads(response.content)
    assert {"type", "title", "status", "detail", "code"} <= body.keys()
    assert body["status"] == response.status_code
    return body
