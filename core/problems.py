"""RFC 9457 problem+json: the body every API error has, the response that carries it, and its schema."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse
from ninja import Schema
from pydantic import Field

from core.errors import DomainError

PROBLEM_CONTENT_TYPE = "application/problem+json"


PROBLEM_BASE = "https://docs.paysite.example/problems/"


def problem_response(
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    param: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> HttpResponse:
    response = HttpResponse(
        problem_json(status=status, code=code, title=title, detail=detail, param=param, **extra),
        status=status,
        content_type=PROBLEM_CONTENT_TYPE,
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def problem_json(*, status: int, code: str, title: str, detail: str, param: str | None = None, **extra: Any) -> str:
    """The problem+json body, as bytes a client receives (idempotent replays store exactly these)."""
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if param is not None:
        body["param"] = param
    body.update({key: value for key, value in extra.items() if _jsonable(value)})
    return json.dumps(body)


def _jsonable(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool | list | dict)


def domain_error_response(error: DomainError) -> HttpResponse:
    """The problem+json answer to a domain error, with `Retry-After` when the error names a wait."""
    retry_after = error.extensions.get("retry_after")
    return problem_response(
        status=error.status,
        code=error.code,
        title=error.title,
        detail=error.detail,
        param=error.param,
        headers={"Retry-After": str(retry_after)} if retry_after is not None else None,
        **error.extensions,
    )


def domain_error_json(error: DomainError) -> str:
    return problem_json(
        status=error.status,
        code=error.code,
        title=error.title,
        detail=error.detail,
        param=error.param,
        **error.extensions,
    )


class ErrorItem(Schema):
    param: str
    code: str
    detail: str


class Problem(Schema):
    """RFC 9457 problem details (`application/problem+json`)."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    param: str | None = None
    errors: list[ErrorItem] | None = Field(None, description="Validation errors (422): every bad field.")
    payment_id: str | None = Field(None, description="A declined payment (402): the stored, failed payment.")
    retry_after: int | None = Field(None, description="Seconds to wait (409 `idempotency_key_in_use`).")
