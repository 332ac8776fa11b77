from __future__ import annotations

import pytest

from tests.factories import make_merchant, make_user


@pytest.fixture
def merchant():
    return make_merchant("Acme")


@pytest.fixture
def signed_in(client, db, merchant):
    """`signed_in("admin")` signs a fresh user with that role at `merchant` in; `signed_in(staff=True)` ops staff."""

    def sign_in(role: str | None = None, *, staff: bool = False, username: str | None = None):
        user = make_user(
            username, merchant_id=merchant.merchant_id if role else None, role=role or "viewer", staff=staff
        )
        client.force_login(user)
        return client

    return sign_in
