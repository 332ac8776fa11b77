"""Domain errors of the merchants app."""

from __future__ import annotations

from core.errors import NotFound


class MerchantNotFound(NotFound):
    title = "No such merchant"


class ApiKeyNotFound(NotFound):
    title = "No such API key"
