"""Request-wide middleware.

- `StorageErrorMiddleware`: pages when DynamoDB keeps failing, a 503 message with `Retry-After` instead
  of an error page. The API maps the same errors in `paysite.api` (503 `storage_unavailable`); this
  does it for the dashboard, after `core.retry` and botocore have retried within the deadline.
- `RequestIdMiddleware`: every request's id, and the request itself for code that has none passed to
  it (`request_current()`: who changed an account, for the audit trail).
- `SessionMiddleware` and `IdleSignOutMiddleware`: a session ends after `SESSION_COOKIE_AGE` seconds
  without activity (PCI DSS 8.2.8). A poll (a page asking for its own progress, header
  `X-Paysite-Poll: 1`) is not activity: it neither renews the session nor counts as use.
"""

from __future__ import annotations

import contextvars
import logging
import re
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.cache import patch_vary_headers
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


_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")  # the whole header (fullmatch): no trailing newline
_current_request: contextvars.ContextVar[HttpRequest | None] = contextvars.ContextVar("request", default=None)


def request_current() -> HttpRequest | None:
    """The request being answered in this thread or task, None outside one (a command, a worker)."""
    return _current_request.get()


class RequestIdMiddleware:
    """Every response carries `X-Request-Id`: the caller's when it is sane, a new `req_` id otherwise."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get("X-Request-Id", "")
        request.request_id = given if _REQUEST_ID.fullmatch(given) else new_id("req")  # type: ignore[attr-defined]
        token = _current_request.set(request)
        try:
            response = self.get_response(request)
        finally:
            _current_request.reset(token)
        response["X-Request-Id"] = request.request_id  # type: ignore[attr-defined]
        return response


# --- idle sessions (PCI DSS 8.2.8) -------------------------------------------------------------

POLL_HEADER = "X-Paysite-Poll"
LAST_ACTIVITY = "last_activity"  # session key: Unix time of the last request that was not a poll
IDLE_SIGN_OUT = "idle timeout"  # `request.sign_out_reason` when this middleware signed the user out


def is_poll(request: HttpRequest) -> bool:
    """A request a page makes by itself on a timer (htmx `every`), not a person's action. Marking a
    request so only shortens its own session's life, so the header needs no proof."""
    return request.headers.get(POLL_HEADER) == "1"


class SessionMiddleware(DjangoSessionMiddleware):
    """Django's, except for polls: with `SESSION_SAVE_EVERY_REQUEST` every request saves the session and
    so pushes its expiry `SESSION_COOKIE_AGE` further; a poll saves it only when it changed it."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        session: Any = getattr(request, "session", None)
        if session is not None and is_poll(request) and not session.modified:
            if session.accessed:
                patch_vary_headers(response, ("Cookie",))
            return response
        return super().process_response(request, response)


class IdleSignOutMiddleware:
    """After `AuthenticationMiddleware`: a signed-in session whose last activity (a request that was not
    a poll) is `SESSION_COOKIE_AGE` seconds old is signed out, even when something saved the session
    meanwhile. The sign-out goes through `logout()`, so it is audited like any other."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session: Any = getattr(request, "session", None)
        if session is not None and SESSION_KEY in session:
            now = int(timezone.now().timestamp())
            last = session.get(LAST_ACTIVITY)
            if isinstance(last, int) and now - last >= settings.SESSION_COOKIE_AGE:
                request.sign_out_reason = IDLE_SIGN_OUT  # type: ignore[attr-defined]
                logout(request)
            elif not is_poll(request):
                session[LAST_ACTIVITY] = now
        return self.get_response(request)
