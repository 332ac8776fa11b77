"""Every API list checks `limit` and `starting_after` alike: the same problem codes, whichever list."""

import pytest

from tests.payments.helpers import integrator, problem

pytestmark = pytest.mark.django_db

LISTS = {
    "/api/v1/payments": "pay",
    "/api/v1/disputes": "dp",
    "/api/v1/refund-requests": "rr",
    "/api/v1/events": "evt",
    "/api/v1/webhook-endpoints": "we",
    "/api/v1/audit-events": "evt",
}


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize(("params", "code"), [({"limit": 0}, "invalid_limit"), ({"limit": 101}, "invalid_limit")])
def test_a_limit_outside_1_to_100_is_invalid_limit(path, params, code):
    merchant = integrator()

    response = merchant.client.get(path, params, HTTP_AUTHORIZATION=f"Bearer {merchant.secret}")

    assert response.status_code == 422 and problem(response)["code"] == code


@pytest.mark.parametrize(("path", "prefix"), LISTS.items())
def test_a_cursor_of_another_kind_is_invalid_cursor(path, prefix):
    merchant = integrator()
    foreign = "cus_01M8N4AHE2KGXEST7Q1NMQZM7B"

    response = merchant.client.get(path, {"starting_after": foreign}, HTTP_AUTHORIZATION=f"Bearer {merchant.secret}")

    assert response.status_code == 422
    body = problem(response)
    assert body["code"] == "invalid_cursor" and f"`{prefix}_...`" in body["detail"]
