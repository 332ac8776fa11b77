"""Reads of customers: one customer, a merchant's customers, exact email lookup through the keyed hash."""

from __future__ import annotations

from core import dynamodb
from core.ids import is_id
from core.pagination import Page
from customers.errors import CustomerNotFound
from customers.models import Customer, email_index_key

# --- merchants -------------------------------------------------------------------------------


# --- API keys --------------------------------------------------------------------------------


# --- payments --------------------------------------------------------------------------------


# --- summaries -------------------------------------------------------------------------------


# --- customers -------------------------------------------------------------------------------


# --- webhook deliveries ----------------------------------------------------------------------


def customer_get(*, merchant_id: str, customer_id: str) -> Customer:
    customer = dynamodb.item_of_merchant(Customer, customer_id, prefix="cus", merchant_id=merchant_id)
    if customer is None:
        raise CustomerNotFound(f"No customer {customer_id}.", param="id")
    return customer


def customer_list_by_ids(*, merchant_id: str, customer_ids: list[str]) -> list[Customer]:
    """These customers in the given order (a search result page, the names on a payment list), in one
    BatchGetItem; ids that are missing or another merchant's are left out."""
    wanted = [customer_id for customer_id in dict.fromkeys(customer_ids) if is_id(customer_id, "cus")]
    found = {c.customer_id: c for c in Customer.batch_get(wanted) if c.merchant_id == merchant_id} if wanted else {}
    return [found[customer_id] for customer_id in wanted if customer_id in found]


def customer_list_for_merchant(
    *, merchant_id: str, limit: int = 20, starting_after: str | None = None, email: str | None = None
) -> Page[Customer]:
    """Newest first. `email` is an exact match through the keyed-hash index (no decryption)."""
    if starting_after is not None and not is_id(starting_after, "cus"):
        raise CustomerNotFound(f"No customer {starting_after}.", param="starting_after")
    if email:
        index, hash_key, hash_attr = (
            Customer.by_email,
            email_index_key(merchant_id=merchant_id, email=email),
            "merchant_email",
        )
    else:
        index, hash_key, hash_attr = Customer.by_merchant, merchant_id, "merchant_id"
    last_key = None
    if starting_after:
        last_key = {"customer_id": {"S": starting_after}, hash_attr: {"S": hash_key}}
    results = index.query(hash_key, scan_index_forward=False, page_size=limit + 1, last_evaluated_key=last_key)
    items = []
    for customer in results:
        items.append(customer)
        if len(items) > limit:
            break
    return Page(items=items[:limit], has_more=len(items) > limit, cursor_attribute="customer_id")
