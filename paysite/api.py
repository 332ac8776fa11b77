"""The one NinjaAPI: routers of every app, API key auth, and the single mapping from exceptions to
RFC 9457 problem+json responses."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from paysite.auth import ApiKeyAuth
from paysite.errors import DomainError

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
    response = HttpResponse(json.dumps(body), status=status, content_type=PROBLEM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _jsonable(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool | list | dict)


api = NinjaAPI(
    title="Paysite API",
    version="1",
    urls_namespace="api",
    auth=ApiKeyAuth(),
    docs_url="/docs",
    openapi_url="/openapi.json",
    description=(
        "Payments, refunds, customers, settlements, audit events and cost estimates for one merchant: "
        "every call is scoped to the merchant of its API key. Errors are RFC 9457 problem+json. "
        "`Idempotency-Key` is required on every POST that moves money; keys are scoped to the merchant "
        "and the endpoint and live 24 hours."
    ),
)


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, error: DomainError) -> HttpResponse:
    return problem_response(
        status=error.status,
        code=error.code,
        title=error.title,
        detail=error.detail,
        param=error.param,
        **error.extra,
    )


@api.exception_handler(AuthenticationError)
def authentication_error(request: HttpRequest, error: AuthenticationError) -> HttpResponse:
    return problem_response(
        status=401,
        code="authentication_required",
        title="Authentication required",
        detail="Send a valid, unrevoked API key as `Authorization: Bearer sk_test_...`.",
        headers={"WWW-Authenticate": 'Bearer realm="paysite"'},
    )


def _param_of(location: tuple[Any, ...]) -> str:
    parts = [str(part) for part in location if part not in ("body", "query", "path", "header", "payload")]
    return ".".join(parts) or "body"


def _code_of(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    return {
        "missing": "parameter_missing",
        "json_invalid": "invalid_json",
        "int_parsing": "invalid_integer",
        "int_type": "invalid_integer",
        "string_type": "invalid_string",
        "extra_forbidden": "unknown_parameter",
    }.get(kind, "invalid_" + kind if kind else "invalid_value")


@api.exception_handler(NinjaValidationError)
def validation_error(request: HttpRequest, error: NinjaValidationError) -> HttpResponse:
    errors = []
    for item in error.errors:
        context = item.get("ctx") or {}
        code = context.get("code") if isinstance(context.get("code"), str) else _code_of(item)
        errors.append({"param": _param_of(tuple(item.get("loc", ()))), "code": code, "detail": item.get("msg", "")})
    first = errors[0] if errors else {"param": "body", "code": "invalid_request", "detail": "Invalid request."}
    return problem_response(
        status=422,
        code=first["code"],
        title="Validation failed",
        detail=first["detail"],
        param=first["param"],
        errors=errors,
    )


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
    return problem_response(
        status=error.status_code,
        code="http_" + str(error.status_code),
        title=str(error.message),
        detail=str(error.message),
    )


def _add_routers() -> None:
    from payments.api import router as payments_router

    api.add_router("", payments_router)
    api.add_router("", "payments.customers_api.router")


_add_routers()
