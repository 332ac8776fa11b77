"""Domain errors of the customers app."""

from __future__ import annotations

from core.errors import NotFound


class CustomerNotFound(NotFound):
    title = "No such customer"
