"""Domain errors of the merchants app."""

from __future__ import annotations

from core.errors import DomainError, NotFound


class MerchantNotFound(NotFound):
    title = "No such merchant"


class ApiKeyNotFound(NotFound):
    title = "No such API key"


class MerchantSuspended(DomainError):
    """Any write by a suspended merchant. Raised at authentication, before an idempotency claim, so it
    is never stored as an idempotent outcome: the same key works once the merchant is reactivated."""

    status = 403
    code = "merchant_suspended"
    title = "Merchant suspended"
