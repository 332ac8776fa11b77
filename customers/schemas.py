"""Schemas of the Customers API (API.md "Customers")."""

from __future__ import annotations

from typing import Any

from ninja import Schema
from pydantic import ConfigDict, Field

from core.wire import rfc3339
from customers.models import Customer
from customers.services import customer_field


class CustomerIn(Schema):
    """Unknown fields are rejected (422 `unknown_parameter`), so a typo never goes unnoticed."""

    model_config = ConfigDict(extra="forbid")

    email: str = Field(
        description="At most 254 characters. Stored encrypted; also kept as a keyed hash for `?email=` lookups."
    )
    name: str | None = Field(default=None, description="At most 200 characters. Stored encrypted.")
    phone: str | None = Field(default=None, description="At most 40 characters. Stored encrypted.")
    metadata: dict[str, str] = Field(
        default_factory=dict, description="Up to 50 keys of at most 40 characters; string values of at most 500."
    )


# Serialises a stored `Customer`: personal fields decrypted for the merchant who owns them.
class CustomerOut(Schema):
    id: str
    object: str = "customer"
    email: str | None
    name: str | None
    phone: str | None
    metadata: dict[str, Any]
    created: str

    @staticmethod
    def resolve_id(customer: Customer) -> str:
        return customer.customer_id

    @staticmethod
    def resolve_object(customer: Customer) -> str:
        return "customer"

    @staticmethod
    def resolve_email(customer: Customer) -> str | None:
        return customer_field(customer, "email")

    @staticmethod
    def resolve_name(customer: Customer) -> str | None:
        return customer_field(customer, "name")

    @staticmethod
    def resolve_phone(customer: Customer) -> str | None:
        return customer_field(customer, "phone")

    @staticmethod
    def resolve_metadata(customer: Customer) -> dict[str, Any]:
        return customer.metadata or {}

    @staticmethod
    def resolve_created(customer: Customer) -> str | None:
        return rfc3339(customer.created)


class CustomerListOut(Schema):
    object: str = "list"
    data: list[CustomerOut]
    has_more: bool
    next_cursor: str | None
