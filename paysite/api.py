"""The one NinjaAPI: routers of every app, API key auth, and the single mapping from exceptions to
RFC 9457 problem+json responses. Each app's router is imported when a request first reaches it
(`core.lazy_api`): a fresh process answering a payments list builds the payments router alone."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError
from pynamodb.exceptions import PynamoDBException, TransactWriteError

from core.errors import DomainError
from core.lazy_api import LazyRoutersAPI
from core.problems import domain_error_response, problem_response
from merchants.auth import ApiKeyAuth
from merchants.ratelimit import MerchantRateLimit

# The module whose `router` serves each group of paths → the first segments of those paths. In this
# order, so the OpenAPI document lists the operations as it always has.
ROUTERS = {
    "merchants.api": ("merchant",),
    "payments.api": ("payments", "refund-requests"),
    "disputes.api": ("disputes",),
    "customers.api": ("customers",),
    "reconciliation.api": ("settlements",),
    "reconciliation.payouts_api": ("balance", "payouts"),
    "audit.api": ("audit-events",),
    "costs.api": ("costs",),
    "webhooks.api": ("events", "webhook-endpoints"),
}

api = LazyRoutersAPI(
    routers=ROUTERS,
    title="Paysite API",
    version="1",
    urls_namespace="api",
    auth=ApiKeyAuth(),
    docs_url="/docs",
    openapi_url="/openapi.json",
    throttle=MerchantRateLimit(),
    description=(
        "Payments, refunds, customers, settlements, audit events and cost estimates for one merchant: "
        "every call is scoped to the merchant of its API key. Errors are RFC 9457 problem+json. "
        "`Idempotency-Key` is required on every POST that moves money; keys are scoped to the merchant "
        "and the endpoint and live 24 hours. A suspended merchant's keys still read, but every write "
        "gets 403 `merchant_suspended` before its `Idempotency-Key` is claimed (never stored for replay)."
    ),
)


MAX_BODY_BYTES = 1024 * 1024
# Uploads that check their own, larger limit (settlement files: 50 MB, reconciliation/api.py).
OWN_BODY_LIMIT = frozenset({"/api/v1/settlements"})


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, error: DomainError) -> HttpResponse:
    return domain_error_response(error)


def _body_too_large() -> HttpResponse:
    return problem_response(
        status=413,
        code="request_too_large",
        title="Request body too large",
        detail=f"Request bodies are limited to {MAX_BODY_BYTES} bytes.",
    )


def body_size_limit(run: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Refuse a body over 1 MB from its Content-Length, before authentication or parsing read it."""

    @functools.wraps(run)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_BODY_BYTES and not (request.method == "POST" and request.path in OWN_BODY_LIMIT):
            return _body_too_large()
        return run(request, *args, **kwargs)

    return checked


api.add_decorator(body_size_limit, mode="view")


@api.exception_handler(RequestDataTooBig)
def request_too_big(request: HttpRequest, error: RequestDataTooBig) -> HttpResponse:
    return _body_too_large()


@api.exception_handler(Throttled)
def rate_limited(request: HttpRequest, error: Throttled) -> HttpResponse:
    wait = int(error.wait) if error.wait is not None else 60
    return problem_response(
        status=429,
        code="rate_limited",
        title="Too many requests",
        detail=f"This merchant's API rate limit is exhausted; retry in {wait} seconds.",
        headers={"Retry-After": str(wait)},
    )


@api.exception_handler(PynamoDBException)
def storage_error(request: HttpRequest, error: PynamoDBException) -> HttpResponse:
    reasons = {getattr(r, "code", None) for r in (getattr(error, "cancellation_reasons", None) or []) if r}
    # A condition that failed is a real conflict; a transaction still cancelled for TransactionConflict or
    # throttling after its retries (core/retry.py) is storage that is unavailable now: 503 below.
    if isinstance(error, TransactWriteError) and "ConditionalCheckFailed" in reasons:
        return problem_response(
            status=409,
            code="concurrent_update",
            title="Concurrent update",
            detail="The object changed while this request ran, and retrying did not settle it; retry the request.",
        )
    return problem_response(
        status=503,
        code="storage_unavailable",
        title="Storage is unavailable",
        detail="The database did not answer; nothing is known to have changed. Retry the request.",
        headers={"Retry-After": "1"},
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
