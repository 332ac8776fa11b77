from __future__ import annotations

import pytest

from tests.factories import make_merchant, make_user


@pytest.fixture
def merchant():
    return make_merchant("Acme")


@pytest.fixture
def other():
    return make_merchant("Globex")


@pytest.fixture
def as_role(client, db, merchant):
    """`as_role("viewer")` signs a fresh user with that role at `merchant` in and returns the client."""

    def sign_in(role: str):
        client.force_login(make_user(merchant_id=merchant.merchant_id, role=role))
        return client

    return sign_in


@pytest.fixture
def staff_client(client, db):
    client.force_login(make_user("ops-staff", staff=True))
    return client


HTMX = {"HTTP_HX_REQUEST": "true"}
