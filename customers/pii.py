"""How pages show a customer's personal data: in clear to roles allowed to see it (`operator`,
`admin`, ops staff), masked to `viewer`. Values are decrypted on the server and masked before they
reach a template, so a viewer's page never carries the clear value."""

from __future__ import annotations

from dataclasses import dataclass

from core.roles import Role
from customers.models import Customer
from customers.services import customer_field
from merchants.tenancy import Tenant

MASK = "•••"


def may_see_pii(tenant: Tenant) -> bool:
    return tenant.allows(Role.OPERATOR)


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}{MASK}@{domain}" if domain else MASK


def mask_name(name: str) -> str:
    return " ".join(f"{word[:1]}{MASK}" for word in name.split()) or MASK


def mask_phone(phone: str) -> str:
    digits = [c for c in phone if c.isdigit()]
    return f"{MASK} {''.join(digits[-2:])}" if len(digits) > 4 else MASK


@dataclass(frozen=True)
class CustomerView:
    customer_id: str
    email: str
    name: str
    phone: str
    masked: bool
    metadata: dict
    created: object


def customer_view(customer: Customer, *, reveal: bool) -> CustomerView:
    email = customer_field(customer, "email") or ""
    name = customer_field(customer, "name") or ""
    phone = customer_field(customer, "phone") or ""
    if not reveal:
        email = mask_email(email) if email else ""
        name = mask_name(name) if name else ""
        phone = mask_phone(phone) if phone else ""
    return CustomerView(
        customer_id=customer.customer_id,
        email=email,
        name=name,
        phone=phone,
        masked=not reveal,
        metadata=customer.metadata or {},
        created=customer.created,
    )
