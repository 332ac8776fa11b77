"""Every page of the dashboard, in one list, for the browser tests that visit them all (the axe-core
accessibility checks, light and dark, as each role).

Append a row when you add a page: (name, path with `{placeholders}` from `PageData.ids`, the roles that
see it). Roles: "viewer", "operator", "admin" (merchant members) and "ops" (staff, no merchant chosen
unless the path sets one). Pages that only some roles may open list only those roles."""

from __future__ import annotations

from dataclasses import dataclass

from audit.models import AuditEvent
from customers.services import customer_create
from tests.factories import TEST_ACTOR, make_api_key, make_merchant, make_payment, make_user
from tests.reliability.settlements import settlement_with_a_discrepancy

MERCHANT_ROLES = ("viewer", "operator", "admin")
ALL = (*MERCHANT_ROLES, "ops")

PAGES: list[tuple[str, str, tuple[str, ...]]] = [
    ("home", "/", ALL),
    ("payments", "/payments/", ALL),
    ("payments-filtered", "/payments/?status=succeeded&amount_min=5", MERCHANT_ROLES),
    ("payment", "/payments/{payment}/", ALL),
    ("payment-uncaptured", "/payments/{authorized}/", MERCHANT_ROLES),
    ("customers", "/customers/", ALL),
    ("customer", "/customers/{customer}/", MERCHANT_ROLES),
    ("settlements", "/settlements/", ALL),
    ("settlement-upload", "/settlements/upload/", ("operator", "admin")),
    ("settlement", "/settlements/{settlement}/", ALL),
    ("developers", "/developers/", ("admin", "ops")),
    ("audit", "/audit/", ("admin", "ops")),
    ("audit-event", "/audit/{event}/", ("admin",)),
    ("audit-verify", "/audit/verify/", ("ops",)),
    ("costs", "/costs/", ("operator", "admin", "ops")),
    ("ops-merchants", "/ops/merchants/", ("ops",)),
    ("compliance", "/compliance/", ("ops",)),
    ("merchant-choose", "/merchant/choose/", ("ops",)),
    ("mfa-setup", "/mfa/setup/", ("ops",)),
    ("not-found", "/payments/pay_01JDZZZZZZZZZZZZZZZZZZZZZZ/", ("viewer",)),
    ("disputes", "/disputes/", ALL),
    ("approvals", "/payments/refund-requests/", ALL),
    ("payment-import", "/payments/import/", ("admin",)),
    ("settings", "/settings/", ("admin", "ops")),
    ("team", "/settings/team/", ("admin", "ops")),
    ("balance", "/balance/", ALL),
    ("payouts", "/balance/payouts/", ALL),
    ("request-log", "/developers/logs/", ("admin",)),
    ("password-change", "/accounts/password/change/", ("viewer",)),
]
SIGNED_OUT_PAGES: list[tuple[str, str]] = [
    ("sign-in", "/accounts/login/"),
    ("password-reset", "/accounts/password/reset/"),
]


@dataclass
class PageData:
    merchant_id: str
    usernames: dict[str, str]
    ids: dict[str, str]


def page_data() -> PageData:
    """A merchant with a payment, an authorization, a customer, a settlement with a discrepancy and an
    audit trail; one user per role and an ops user."""
    merchant = make_merchant("Acme Outdoor")
    secret = make_api_key(merchant.merchant_id)
    settlement_id, _, _ = settlement_with_a_discrepancy(merchant.merchant_id, secret)
    customer = customer_create(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, email="ada@example.com")
    payment = make_payment(
        merchant.merchant_id, amount=123456, description="Tent, 4 person", customer_id=customer.customer_id
    )
    authorized = make_payment(merchant.merchant_id, amount=3285, capture=False)
    event = next(e for e in AuditEvent.query(merchant.merchant_id) if e.action == "payment.create")
    usernames = {}
    for role in MERCHANT_ROLES:
        usernames[role] = make_user(f"{role}1", merchant_id=merchant.merchant_id, role=role).username
    usernames["ops"] = make_user("ops1", staff=True).username
    ids = {
        "merchant": merchant.merchant_id,
        "payment": payment.payment_id,
        "authorized": authorized.payment_id,
        "customer": customer.customer_id,
        "settlement": settlement_id,
        "event": event.event_id,
    }
    return PageData(merchant_id=merchant.merchant_id, usernames=usernames, ids=ids)


def pages_for(role: str) -> list[tuple[str, str]]:
    return [(name, path) for name, path, roles in PAGES if role in roles]
