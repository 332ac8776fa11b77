"""`manage.py search rebuild [--merchant MER_ID]`: the search index made again from DynamoDB.

The index is derived: this reads every customer and payment of each merchant through the usual
selectors (the by-merchant indexes, never a Scan), writes them in batches, and drops the merchant's
rows that no longer match an item. The command lives in payments because it reads payments and
customers, which the search app (below them) does not import."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from customers.selectors import customer_list_for_merchant
from merchants.selectors import merchant_get, merchant_id_list
from payments.selectors import payment_iter_for_merchant
from search import index as search_index
from search.models import EntryKind

BATCH = 500


def _customers(merchant_id: str) -> Iterator[Any]:
    after = None
    while True:
        page = customer_list_for_merchant(merchant_id=merchant_id, limit=100, starting_after=after)
        yield from page.items
        if not page.has_more or not page.items:
            return
        after = page.items[-1].customer_id


def _batches(items: Iterable[Any]) -> Iterator[list[Any]]:
    iterator = iter(items)
    while batch := list(islice(iterator, BATCH)):
        yield batch


def search_rebuild(*, merchant_id: str, progress: Callable[[str], None] = lambda line: None) -> dict[str, int]:
    """Replace the merchant's index rows with rows made from its items in DynamoDB. Returns counts."""
    counts = {EntryKind.CUSTOMER.value: 0, EntryKind.PAYMENT.value: 0}
    sources = {
        EntryKind.CUSTOMER: _customers(merchant_id),
        EntryKind.PAYMENT: payment_iter_for_merchant(merchant_id=merchant_id),
    }
    with transaction.atomic():
        search_index.clear(merchant_id=merchant_id)
        for kind, items in sources.items():
            for batch in _batches(items):
                counts[kind.value] += search_index.index_items(kind, [item.serialize() for item in batch])
                progress(f"{merchant_id}: {counts[kind.value]} {kind.value}s")
    return counts


class Command(BaseCommand):
    help = (
        "Search index: `search rebuild [--merchant MER_ID]` makes the search index of payments and customers "
        "again from DynamoDB (every merchant by default)."
    )

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        rebuild = sub.add_parser("rebuild", help="rebuild the index from DynamoDB")
        rebuild.add_argument("--merchant", default=None, help="only this merchant (default: every merchant)")

    def handle(self, *args, action: str, merchant: str | None = None, **options) -> None:
        merchants = [merchant_get(merchant_id=merchant).merchant_id] if merchant else merchant_id_list()
        for merchant_id in merchants:
            counts = search_rebuild(merchant_id=merchant_id, progress=self.stdout.write)
            self.stdout.write(f"{merchant_id}: indexed {counts['payment']} payments and {counts['customer']} customers")
