"""`manage.py search rebuild`: the index made again from DynamoDB, per merchant or for all."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from customers.services import customer_create
from payments.models import Payment
from search import index
from search.models import EntryKind, SearchEntry
from tests.factories import TEST_ACTOR, make_merchant, make_payment

pytestmark = pytest.mark.django_db


def _rebuild(*args: str) -> str:
    out = io.StringIO()
    call_command("search", "rebuild", *args, stdout=out)
    return out.getvalue()


def test_rebuild_restores_a_lost_index_from_dynamodb(settings):
    settings.SEARCH_INDEX_INLINE = False  # written while the feed was off: the index knows nothing
    merchant = make_merchant("Acme")
    grace = customer_create(
        merchant_id=merchant.merchant_id, actor=TEST_ACTOR, email="grace@navy.example", name="Grace Hopper"
    )
    paid = [
        make_payment(merchant.merchant_id, description=f"Order {n}", customer_id=grace.customer_id) for n in range(3)
    ]
    assert SearchEntry.objects.count() == 0

    printed = _rebuild("--merchant", merchant.merchant_id)

    assert f"{merchant.merchant_id}: indexed 3 payments and 1 customers" in printed
    found = index.search(merchant_id=merchant.merchant_id, kind=EntryKind.PAYMENT, query="hopper order")
    assert sorted(found.ids) == sorted(p.payment_id for p in paid) and found.total == 3


def test_rebuild_drops_stale_rows_and_leaves_other_merchants_alone():
    acme, globex = make_merchant("Acme"), make_merchant("Globex")
    make_payment(acme.merchant_id, description="Blue widget")
    theirs = make_payment(globex.merchant_id, description="Red widget")
    SearchEntry.objects.create(
        merchant_id=acme.merchant_id, kind=EntryKind.PAYMENT, object_id="pay_gone", terms="widget"
    )
    SearchEntry.objects.filter(object_id=theirs.payment_id).update(terms="tampered")

    _rebuild("--merchant", acme.merchant_id)

    assert not SearchEntry.objects.filter(object_id="pay_gone").exists()
    assert SearchEntry.objects.get(object_id=theirs.payment_id).terms == "tampered"  # not this merchant's rebuild
    _rebuild()
    assert index.search(merchant_id=globex.merchant_id, kind=EntryKind.PAYMENT, query="red").ids == [theirs.payment_id]


def test_the_demo_data_leaves_the_index_filled(transactional_db, settings, tmp_path):
    """The import (in seed_demo's worker thread) and the services feed the index as they write."""
    settings.VAR_DIR = tmp_path
    seed = ("seed_demo", "--payments", "60", "--days", "4", "--recent-days", "1", "--workers", "1", "--quiet")

    call_command(*seed, "--force", stdout=io.StringIO(), stderr=io.StringIO())

    merchants = json.loads((tmp_path / "demo.json").read_text())["merchants"].values()
    for merchant_id in merchants:
        stored = {p.payment_id for p in Payment.by_merchant.query(merchant_id)}
        indexed = set(
            SearchEntry.objects.filter(merchant_id=merchant_id, kind=EntryKind.PAYMENT).values_list(
                "object_id", flat=True
            )
        )
        assert stored and indexed == stored
        assert SearchEntry.objects.filter(merchant_id=merchant_id, kind=EntryKind.CUSTOMER).exists()
