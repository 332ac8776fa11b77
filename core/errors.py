"""Domain errors. Services raise these; `paysite/api.py` maps them to problem+json in one place and
pages show them as messages."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """`detail`, `param` and `code` are the problem's members of those names; any other keyword
    (`payment_id=...`, `retry_after=...`) is an extension member of the problem body (RFC 9457
    section 3.2), kept in `extensions`."""

    status = 400
    code = "invalid_request"
    title = "Invalid request"

    def __init__(
        self, detail: str | None = None, *, param: str | None = None, code: str | None = None, **extensions: Any
    ):
        self.detail = detail or self.title
        self.param = param
        if code is not None:
            self.code = code
        self.extensions = extensions
        super().__init__(self.detail)


class NotFound(DomainError):
    status = 404
    code = "resource_missing"
    title = "Not found"


class InvalidState(DomainError):
    status = 409
    code = "invalid_state"
    title = "Invalid state for this action"


class ValidationFailed(DomainError):
    status = 422
    code = "validation_error"
    title = "Validation failed"


class StorageUnavailable(DomainError):
    status = 503
    code = "storage_unavailable"
    title = "Storage is unavailable"
