"""`ApiRequestLogMiddleware`: logs every API request made with a merchant's API key.

Placed right after `RequestIdMiddleware`, it sees the request id and the final response (errors
included: Django has turned them into responses by then). It only measures and collects before the
response leaves; redaction and the write run in the response's close (`apilog.services`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse

from apilog.services import ApiExchange, api_request_record
from core.ids import now

logger = logging.getLogger(__name__)

API_PREFIX = "/api/v1/"


def _merchant_and_key(request: HttpRequest) -> tuple[str | None, str | None]:
    """The merchant and key of an API-key request (`request.auth` of django-ninja); a key that was
    refused before `auth` was set (a suspended merchant's write) still names its merchant."""
    auth: Any = getattr(request, "auth", None)
    merchant_id = getattr(auth, "merchant_id", None) or getattr(request, "merchant_id", None)
    key = getattr(auth, "key", None)
    return merchant_id, getattr(key, "key_id", None)


def _request_body(request: HttpRequest) -> tuple[bytes, str]:
    """The body and its content type; an upload (multipart) is never kept, only its size."""
    content_type = request.content_type or ""
    if content_type.startswith("multipart/"):
        size = request.META.get("CONTENT_LENGTH") or "?"
        return f"[{content_type} upload, {size} bytes, not kept]".encode(), "text/plain"
    try:
        return request.body, content_type
    except Exception:  # already read as a stream, or too large
        return b"", content_type


class ApiRequestLogMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        arrived = now()
        started = time.perf_counter()
        response = self.get_response(request)
        latency_ms = int((time.perf_counter() - started) * 1000)
        try:
            self._defer(request, response, arrived, latency_ms)
        except Exception:
            logger.warning("API request log: %s %s not logged", request.method, request.path, exc_info=True)
        return response

    def _defer(self, request: HttpRequest, response: HttpResponse, arrived: datetime, latency_ms: int) -> None:
        merchant_id, key_id = _merchant_and_key(request)
        if not merchant_id:
            return  # no key, or a refused one: no merchant to log it for
        body, content_type = _request_body(request)

        def record() -> None:
            try:
                exchange = _exchange(request, response, merchant_id, key_id, arrived, latency_ms, body, content_type)
            except Exception:
                logger.warning("API request log: %s %s not logged", request.method, request.path, exc_info=True)
                return
            api_request_record(exchange)

        # Run by `response.close()`, which the server calls after sending the body.
        response._resource_closers.append(record)  # type: ignore[attr-defined]  # Django runs them in close()


def _exchange(
    request: HttpRequest,
    response: HttpResponse,
    merchant_id: str,
    key_id: str | None,
    arrived: datetime,
    latency_ms: int,
    body: bytes,
    content_type: str,
) -> ApiExchange:
    streamed = getattr(response, "streaming", False)
    return ApiExchange(
        merchant_id=merchant_id,
        arrived=arrived,
        request_id=getattr(request, "request_id", "") or "",
        method=request.method or "",
        path=request.path,
        query=request.META.get("QUERY_STRING", ""),
        status=response.status_code,
        latency_ms=latency_ms,
        key_id=key_id,
        idempotency_key=request.headers.get("Idempotency-Key"),
        replayed=response.get("Idempotent-Replayed") == "true",
        request_body=body,
        request_content_type=content_type,
        response_body=b"" if streamed else response.content,
        response_content_type=response.get("Content-Type", ""),
    )
