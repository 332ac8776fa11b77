"""The customers router: thin operations over the customer selectors and services."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema, Status
from pydantic import Field

from core.problems import Problem
from customers import services
from customers.schemas import CustomerIn, CustomerListOut, CustomerOut
from customers.selectors import customer_get, customer_list_for_merchant
from customers.services import customer_create_idempotent
from idempotency.services import KEY_HEADER, idempotency_key_check, request_fingerprint

router = Router(tags=["customers"])

_COMMON = {401: Problem, 429: Problem, 503: Problem}  # auth, the merchant's rate limit, storage down


_OPTIONAL_IDEMPOTENCY = {
    "parameters": [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x20-\\x7e]+$"},
            "description": "Optional here. With a key, a retry with the same key and body returns the first "
            "response byte for byte (`Idempotent-Replayed: true`) instead of creating a second customer; the "
            "same key with another body is 422 `idempotency_key_reused`. Keys live 24 hours.",
        }
    ]
}


@router.post(
    "/customers",
    response={201: CustomerOut, 400: Problem, 409: Problem, 413: Problem, 422: Problem, **_COMMON},
    summary="Create a customer",
    description="Email, name and phone are encrypted at rest field by field. `Idempotency-Key` is optional: "
    "send one to make retries safe.",
    openapi_extra=_OPTIONAL_IDEMPOTENCY,
    operation_id="payments_customers_api_customer_create",
)
def customer_create(request: HttpRequest, payload: CustomerIn):
    fields = {
        "merchant_id": request.auth.merchant_id,
        "actor": request.auth.actor,
        "email": payload.email,
        "name": payload.name or "",
        "phone": payload.phone,
        "metadata": payload.metadata,
    }
    key = request.headers.get(KEY_HEADER)
    if key is None:
        return Status(201, services.customer_create(**fields))
    stored = customer_create_idempotent(
        key=idempotency_key_check(key=key),
        fingerprint=request_fingerprint(body=request.body),
        render=lambda customer: (201, CustomerOut.from_orm(customer).model_dump_json()),
        **fields,
    )
    response = HttpResponse(stored.body, status=stored.status, content_type="application/json")
    if stored.replayed:
        response["Idempotent-Replayed"] = "true"
    return response


class CustomerFilters(Schema):
    limit: int = Field(default=20, ge=1, le=100, description="1 to 100 customers per page.")
    starting_after: str | None = Field(default=None, description="A customer id: the page after it.")
    email: str | None = Field(default=None, description="Exact email (case-insensitive), matched by keyed hash.")


@router.get(
    "/customers",
    response={200: CustomerListOut, 404: Problem, 422: Problem, **_COMMON},
    summary="List customers, newest first",
    operation_id="payments_customers_api_customer_list",
)
def customer_list(request: HttpRequest, filters: Query[CustomerFilters]):
    page = customer_list_for_merchant(
        merchant_id=request.auth.merchant_id,
        limit=filters.limit,
        starting_after=filters.starting_after,
        email=filters.email,
    )
    return {"object": "list", "data": page.items, "has_more": page.has_more, "next_cursor": page.next_cursor}


@router.get(
    "/customers/{customer_id}",
    response={200: CustomerOut, 404: Problem, **_COMMON},
    summary="Retrieve a customer",
    operation_id="payments_customers_api_customer_retrieve",
)
def customer_retrieve(request: HttpRequest, customer_id: str):
    return customer_get(merchant_id=request.auth.merchant_id, customer_id=customer_id)
