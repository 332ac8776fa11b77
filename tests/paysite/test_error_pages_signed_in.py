"""Error pages render with the navbar for a signed-in person, where no URL pattern matched."""

import pytest

from tests.factories import make_merchant, make_user

pytestmark = pytest.mark.django_db


def test_an_unknown_address_is_a_404_page_with_the_navbar_when_signed_in(client):
    merchant = make_merchant("Acme")
    client.force_login(make_user(merchant_id=merchant.merchant_id, role="admin"))

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert b'class="navbar' in response.content and b"Payments" in response.content
