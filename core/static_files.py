"""Whitenoise's middleware, which lists the static files at the first request for one of them
rather than when the process starts.

Whitenoise stats every file under `STATIC_ROOT` and prepares its headers when the middleware is
built, before the first request of every process; an API request never needs that list. Here the
directories are recorded at start and listed, once, by the first request under their prefix
(`STATIC_URL`), so a fresh process (a gunicorn worker, a Lambda function's cold start: README
"Lambda") answers its first API request or page sooner. What is served, and how, is Whitenoise's.
"""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings as django_settings
from django.http import HttpRequest, HttpResponseBase
from whitenoise.middleware import WhiteNoiseMiddleware  # type: ignore[import-untyped]


class LazyWhiteNoiseMiddleware(WhiteNoiseMiddleware):
    def __init__(self, get_response: Any = None, settings: Any = django_settings) -> None:
        self._unlisted: list[tuple[str, str]] = []
        self._listing = threading.Lock()
        super().__init__(get_response, settings)

    def update_files_dictionary(self, root: str, prefix: str) -> None:
        self._unlisted.append((root, prefix))

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if self._unlisted and any(request.path_info.startswith(prefix) for _, prefix in self._unlisted):
            with self._listing:  # a request that arrives meanwhile waits for the whole list
                for root, prefix in self._unlisted:
                    super().update_files_dictionary(root, prefix)
                self._unlisted.clear()
        response: HttpResponseBase = super().__call__(request)
        return response
