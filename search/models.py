"""The search index: one row per payment or customer, derived from DynamoDB and rebuildable from it.

It lives in the relational database (the `default` one) because DynamoDB has no text search. A row
holds no PAN and no clear personal data: `terms` carries ids, description words, amounts, the card's
last 4 digits and keyed hashes of the customer's email, name and phone prefixes (see `search.terms`).
The full-text part is per database: an FTS5 table kept by triggers on SQLite, a generated `tsvector`
column with a GIN index on PostgreSQL (both made by the migration, not by this model)."""

from __future__ import annotations

from django.db import models


class EntryKind(models.TextChoices):
    PAYMENT = "payment"
    CUSTOMER = "customer"


class SearchEntry(models.Model):
    merchant_id = models.CharField(max_length=40)
    kind = models.CharField(max_length=10, choices=EntryKind.choices)
    object_id = models.CharField(max_length=40)  # pay_/cus_ + ULID: sorting by it is sorting by time
    customer_id = models.CharField(max_length=40, blank=True, default="")  # a payment's customer
    status = models.CharField(max_length=24, blank=True, default="")
    currency = models.CharField(max_length=3, blank=True, default="")
    amount = models.BigIntegerField(null=True)  # minor units
    created = models.DateTimeField(null=True)
    terms = models.TextField()  # normalised tokens, space separated: what the full-text index reads

    class Meta:
        db_table = "search_entry"
        constraints = [models.UniqueConstraint(fields=["kind", "object_id"], name="search_entry_unique_object")]
        indexes = [
            models.Index(fields=["merchant_id", "kind", "object_id"], name="search_entry_merchant"),
            models.Index(fields=["merchant_id", "customer_id"], name="search_entry_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id}"
