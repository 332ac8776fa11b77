"""The search index on the production topology: PostgreSQL full text (a generated tsvector with a GIN
index). A payment made through one node is found on the other by a description word and by a prefix
of its customer's email, and the index row holds no clear email."""

from __future__ import annotations

import re
import uuid

import pytest
from django.db import connection

from search.models import SearchEntry
from tests.stack.helpers import CARD, merchant_new, sign_in, user_new

pytestmark = pytest.mark.stack


def _listed_ids(page_text: str) -> list[str]:
    return re.findall(r'data-payment-id="(pay_[0-9A-Z]+)"', page_text)


def test_a_payment_made_on_one_node_is_found_on_the_other_by_description_word_and_email_prefix(stack):
    merchant = merchant_new("Stack search")
    api = stack.session(merchant.secret)
    first, second = stack.nodes[0], stack.nodes[1]
    word = f"zephyr{uuid.uuid4().hex[:6]}"
    customer = api.post(
        f"{first}/api/v1/customers",
        json={"email": f"marguerite.{word}@example.com", "name": "Marguerite Perey"},
        headers={"Idempotency-Key": f"customer-{word}"},
        timeout=60,
    )
    assert customer.status_code == 201, customer.text
    payment = api.post(
        f"{first}/api/v1/payments",
        json={
            "amount": 4321,
            "currency": "usd",
            "card": CARD,
            "customer_id": customer.json()["id"],
            "description": f"Order {word} 77",
        },
        headers={"Idempotency-Key": f"payment-{word}"},
        timeout=60,
    )
    assert payment.status_code == 201, payment.text
    payment_id = payment.json()["id"]

    pages = stack.session()
    sign_in(pages, second, user_new(f"search-{word}", merchant_id=merchant.merchant_id, role="viewer"))
    by_word = pages.get(f"{second}/payments/", params={"q": word[:8]}, timeout=60)
    by_email = pages.get(f"{second}/payments/", params={"q": "margue"}, timeout=60)
    by_amount = pages.get(f"{second}/payments/", params={"q": "43.21"}, timeout=60)

    assert _listed_ids(by_word.text) == [payment_id]
    assert _listed_ids(by_email.text) == [payment_id]
    assert payment_id in _listed_ids(by_amount.text)
    assert connection.vendor == "postgresql"
    stored = " ".join(SearchEntry.objects.filter(merchant_id=merchant.merchant_id).values_list("terms", flat=True))
    assert "marguerite" not in stored and "perey" not in stored and word in stored
