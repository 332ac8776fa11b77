"""Pages when DynamoDB keeps failing: a 503 message with `Retry-After` instead of an error page.

The API maps the same errors in `paysite.api` (503 `storage_unavailable`); this middleware does it for
the dashboard, after `core.retry` and botocore have retried within the deadline.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from botocore.exceptions import BotoCoreError, ClientError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from pynamodb.exceptions import PynamoDBException

from core.errors import StorageUnavailable
from core.ids import new_id
from core.problems import problem_response

logger = logging.getLogger(__name__)

STORAGE_ERRORS = (PynamoDBException, BotoCoreError, ClientError, StorageUnavailable)
RETRY_AFTER_SECONDS = 1


def storage_unavailable_page() -> HttpResponse:
    response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class StorageErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            return self.get_response(request)
        except STORAGE_ERRORS as error:  # raised by a middleware below this one
            return self._answer(request, error)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, STORAGE_ERRORS):
            return self._answer(request, exception)
        return None

    def _answer(self, request: HttpRequest, error: Exception) -> HttpResponse:
        # The error's class only: botocore messages can quote request parameters.
        logger.warning("storage unavailable for %s %s: %s", request.method, request.path, type(error).__name__)
        if request.path.startswith("/api/"):
            return problem_response(
                status=503,
                code="storage_unavailable",
                title="Storage is unavailable",
                detail="The database did not answer; nothing is known to have changed. Retry the request.",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        return storage_unavailable_page()


_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


class RequestIdMiddleware:
    """Every response carries `X-Request-Id`: the caller's when it is sane, a new `req_` id otherwise."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get("X-Request-Id", "")
        request.request_id = given if _REQUEST_ID.match(given) else new_id("req")  # type: ignore[attr-defined]
        response = self.get_response(request)
        response["X-Request-Id"] = request.request_id  # type: ignore[attr-defined]
        return response
