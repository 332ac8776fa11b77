"""The search on the payments and customers pages: what each role sees, counts, exports and scoping."""

from __future__ import annotations

import pytest
from django.urls import reverse

from customers.services import customer_create
from tests.factories import HTMX, TEST_ACTOR, make_payment

pytestmark = pytest.mark.django_db
PAYMENTS = reverse("payments:payment-list")
CUSTOMERS = reverse("customers:customer-list")


@pytest.fixture
def jane(merchant):
    return customer_create(
        merchant_id=merchant.merchant_id, actor=TEST_ACTOR, email="jane.doe@example.com", name="Jane Doe"
    )


def _ids(response) -> list[str]:
    return [p.payment_id for p in response.context["payments"]]


def test_the_payment_list_shows_customer_names_masked_for_viewers(as_role, merchant, jane):
    make_payment(merchant.merchant_id, customer_id=jane.customer_id, description="Order 1")

    viewer = as_role("viewer").get(PAYMENTS).content.decode()
    operator = as_role("operator").get(PAYMENTS).content.decode()

    assert "Jane Doe" not in viewer and "J••• D•••" in viewer
    assert "Jane Doe" in operator


def test_a_search_by_email_prefix_lists_the_customers_payments_with_a_count(as_role, merchant, jane):
    theirs = [make_payment(merchant.merchant_id, customer_id=jane.customer_id) for _ in range(2)]
    make_payment(merchant.merchant_id, description="Someone else")
    client = as_role("viewer")

    response = client.get(PAYMENTS, {"q": "jane.do"}, **HTMX)

    assert sorted(_ids(response)) == sorted(p.payment_id for p in theirs)
    assert "Showing 1–2 of 2" in response.content.decode()


def test_search_results_page_forwards_and_back(as_role, merchant, monkeypatch):
    monkeypatch.setattr("payments.views.PAGE_SIZE", 2)
    made = [make_payment(merchant.merchant_id, description=f"Widget {n}") for n in range(5)]
    newest = [p.payment_id for p in reversed(made)]
    client = as_role("viewer")

    first = client.get(PAYMENTS, {"q": "widget"})
    second = client.get(PAYMENTS + first.context["next_link"])
    back = client.get(PAYMENTS + second.context["prev_link"])

    assert _ids(first) == newest[:2] and first.context["has_next"] and not first.context["has_prev"]
    assert _ids(second) == newest[2:4] and second.context["has_prev"]
    assert _ids(back) == newest[:2]


def test_the_export_of_a_search_has_only_its_payments(as_role, merchant):
    found = make_payment(merchant.merchant_id, description="Blue kayak")
    make_payment(merchant.merchant_id, description="Red canoe")

    response = as_role("viewer").get(reverse("payments:payment-export"), {"q": "kayak"})
    body = b"".join(response.streaming_content).decode()

    assert found.payment_id in body and body.count("pay_") == 1


def test_another_merchants_payments_are_never_found(as_role, merchant, other):
    make_payment(other.merchant_id, description="Secret order")

    response = as_role("admin").get(PAYMENTS, {"q": "secret"})

    assert _ids(response) == [] and b"No payments match" in response.content


def test_the_customers_page_searches_by_partial_name_and_masks_for_viewers(as_role, merchant, jane, other):
    customer_create(merchant_id=merchant.merchant_id, actor=TEST_ACTOR, email="bob@example.com", name="Bob Roe")
    customer_create(merchant_id=other.merchant_id, actor=TEST_ACTOR, email="jane@other.example", name="Jane Other")

    viewer = as_role("viewer").get(CUSTOMERS, {"q": "jan"})
    fragment = as_role("viewer").get(CUSTOMERS, {"q": "jan"}, **HTMX).content.decode()
    operator = as_role("operator").get(CUSTOMERS, {"q": "doe"})
    nothing = as_role("operator").get(CUSTOMERS, {"q": "zzz"})

    assert [c.customer_id for c in viewer.context["customers"]] == [jane.customer_id]
    assert "Jane Doe" not in viewer.content.decode() and "1 found" in viewer.content.decode()
    assert fragment.lstrip().startswith('<section id="customer-table"') and jane.customer_id in fragment
    assert [c.name for c in operator.context["customers"]] == ["Jane Doe"]
    assert b"No customer matches that search" in nothing.content


def test_the_home_pages_latest_payments_show_customer_names_masked_for_viewers(as_role, merchant, jane):
    make_payment(merchant.merchant_id, customer_id=jane.customer_id)

    viewer = as_role("viewer").get(reverse("home")).content.decode()
    operator = as_role("operator").get(reverse("home")).content.decode()

    assert "Jane Doe" not in viewer and "J••• D•••" in viewer
    assert "Jane Doe" in operator and f">{jane.customer_id}<" not in operator


def test_a_search_pages_forwards_and_back_in_list_order(as_role, merchant, monkeypatch):
    monkeypatch.setattr("payments.views.PAGE_SIZE", 2)
    orders = [make_payment(merchant.merchant_id, description=f"Order {n}") for n in range(5)]
    make_payment(merchant.merchant_id, description="Something else")
    newest_first = [p.payment_id for p in reversed(orders)]
    operator = as_role("operator")

    first = operator.get(PAYMENTS, {"q": "order"})
    second = operator.get(PAYMENTS, {"q": "order", "starting_after": newest_first[1]})
    back = operator.get(PAYMENTS, {"q": "order", "ending_before": newest_first[2]})

    assert _ids(first) == newest_first[:2] and _ids(second) == newest_first[2:4]
    assert _ids(back) == newest_first[:2]
    assert "Showing 1–2 of 5" in first.content.decode()
