"""The search index on SQLite FTS5: what it stores, what a query finds, and merchant scoping."""

from __future__ import annotations

import re

import pytest

from customers.services import customer_create
from payments import services
from search import index
from search.models import EntryKind, SearchEntry
from tests.factories import TEST_ACTOR, card, make_merchant, make_payment

pytestmark = pytest.mark.django_db


def _find(merchant_id: str, query: str, kind: str = EntryKind.PAYMENT, **filters) -> list[str]:
    return index.search(merchant_id=merchant_id, kind=kind, query=query, **filters).ids


@pytest.fixture
def shop():
    merchant = make_merchant("Acme")
    jane = customer_create(
        merchant_id=merchant.merchant_id,
        actor=TEST_ACTOR,
        email="jane.doe@example.com",
        name="Jane Doe",
        phone="+1 415 555 0100",
    )
    order = make_payment(
        merchant.merchant_id, amount=1250, description="Order 261129-5381", customer_id=jane.customer_id
    )
    other = make_payment(merchant.merchant_id, amount=5000, description="Gift card", card=card("5555555555554444"))
    return merchant, jane, order, other


def test_a_payment_is_found_by_an_id_prefix_with_or_without_its_prefix(shop):
    merchant, _, order, _ = shop
    assert _find(merchant.merchant_id, order.payment_id[:14]) == [order.payment_id]
    assert order.payment_id in _find(merchant.merchant_id, order.payment_id[4:20].lower())


def test_a_payment_is_found_by_words_of_its_description(shop):
    merchant, _, order, other = shop
    assert _find(merchant.merchant_id, "Order 261129-5381") == [order.payment_id]
    assert _find(merchant.merchant_id, "ord 5381") == [order.payment_id]
    assert _find(merchant.merchant_id, "gift") == [other.payment_id]
    assert _find(merchant.merchant_id, "order gift") == []


def test_a_payment_is_found_by_its_customers_email_or_name_in_part(shop):
    merchant, jane, order, _ = shop
    assert _find(merchant.merchant_id, "jane.doe@example.com") == [order.payment_id]
    assert _find(merchant.merchant_id, "jan") == [order.payment_id]
    assert _find(merchant.merchant_id, "Doe") == [order.payment_id]
    assert _find(merchant.merchant_id, "4155550") == [order.payment_id]
    assert _find(merchant.merchant_id, "415 555") == [order.payment_id]
    assert _find(merchant.merchant_id, "jan", kind=EntryKind.CUSTOMER) == [jane.customer_id]
    assert _find(merchant.merchant_id, jane.customer_id[:10], kind=EntryKind.CUSTOMER) == [jane.customer_id]


def test_a_payment_is_found_by_amount_and_last4(shop):
    merchant, _, order, other = shop
    assert _find(merchant.merchant_id, "12.50") == [order.payment_id]
    assert _find(merchant.merchant_id, "12.5") == [order.payment_id]
    assert _find(merchant.merchant_id, "50") == [other.payment_id]
    assert _find(merchant.merchant_id, "4444") == [other.payment_id]
    assert _find(merchant.merchant_id, "4242") == [order.payment_id]


def test_filters_apply_with_the_query_and_the_total_counts_every_match(shop):
    merchant, _, order, other = shop
    page = index.search(merchant_id=merchant.merchant_id, kind=EntryKind.PAYMENT, query="usd", limit=1)
    assert page.ids == [other.payment_id] and page.total == 2 and page.has_more
    after = index.search(
        merchant_id=merchant.merchant_id, kind=EntryKind.PAYMENT, query="usd", limit=1, starting_after=other.payment_id
    )
    assert after.ids == [order.payment_id] and not after.has_more
    assert _find(merchant.merchant_id, "usd", amount_gte=2000) == [other.payment_id]
    assert _find(merchant.merchant_id, "usd", status="failed") == []


def test_a_status_change_is_indexed_after_it_commits(shop):
    merchant, _, order, _ = shop
    services.refund_create(merchant_id=merchant.merchant_id, payment_id=order.payment_id, actor=TEST_ACTOR)
    assert _find(merchant.merchant_id, "order", status="refunded") == [order.payment_id]


def test_merchant_a_never_sees_merchant_b(shop):
    merchant, jane, order, _ = shop
    rival = make_merchant("Globex")
    theirs = make_payment(rival.merchant_id, description="Order 261129-5381")
    customer_create(merchant_id=rival.merchant_id, actor=TEST_ACTOR, email="jane.doe@example.com", name="Jane Doe")
    assert _find(merchant.merchant_id, "order") == [order.payment_id]
    assert _find(rival.merchant_id, "order") == [theirs.payment_id]
    assert _find(rival.merchant_id, order.payment_id) == []
    assert _find(rival.merchant_id, "jane") == []  # their Jane has no payment
    assert _find(merchant.merchant_id, "jane", kind=EntryKind.CUSTOMER) == [jane.customer_id]


_OPAQUE = re.compile(r"h[0-9a-f]{16}|(?:[a-z]{2,3})?[0-9a-hjkmnp-tv-z]{26}")  # a hashed term, an id


def test_the_index_holds_no_clear_personal_data(shop):
    merchant, *_ = shop
    stored = " ".join(SearchEntry.objects.values_list("terms", flat=True)).lower()
    # Hashed terms and ids are random hex and base32: "415" turns up in them by chance.
    readable = [term for term in stored.split() if not _OPAQUE.fullmatch(term)]
    assert readable and len(readable) < len(stored.split())
    for clear in ("jane", "doe", "example", "4155550100", "415", "0100"):
        assert not any(clear in term for term in readable), clear
    assert "4242424242424242" not in stored and "555555555555" not in stored


def test_an_empty_or_punctuation_query_finds_nothing(shop):
    merchant, *_ = shop
    assert _find(merchant.merchant_id, "") == []
    assert _find(merchant.merchant_id, "-- ' \" *") == []
