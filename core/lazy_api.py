"""A NinjaAPI whose routers are imported when a request first reaches them.

django-ninja builds a pydantic model for every operation's input and output as the operation is
declared, so importing all the apps' API modules costs a fresh process about 0.3 s before it answers
anything (README "Lambda", cold start). `LazyRoutersAPI` is given each router as the dotted path of
its module and the first path segments it serves; its URLconf holds one resolver per router that
matches those segments without consuming them, and imports and binds the router on the first
request that reaches it. A list of payments imports the payments router alone.

Everything that needs every router gets them all, in the order they were given: the OpenAPI
document (`_get_bound_routers`, read by ninja's schema builder) and Django's `reverse()` (which walks
every resolver).

This leans on two internals of the pinned django-ninja (1.7): `_get_urls` and
`_get_bound_routers`, and `BoundRouter`, which binds a router's operations to an API (auth,
throttle, the API's decorators). `tests/paysite/test_lazy_routers.py` fails if they change.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from functools import cached_property
from importlib import import_module
from types import ModuleType
from typing import Any

from django.urls import URLPattern, URLResolver
from django.urls.resolvers import RegexPattern
from ninja import NinjaAPI, Router
from ninja.openapi.urls import get_openapi_urls, get_root_url
from ninja.router import BoundRouter


class LazyRoutersAPI(NinjaAPI):
    def __init__(self, *args: Any, routers: Mapping[str, Sequence[str]], **kwargs: Any) -> None:
        """`routers`: the module whose `router` serves each group of paths → the first segments of
        those paths (`{"payments.api": ("payments", "refund-requests")}`), in the order of the
        OpenAPI document."""
        super().__init__(*args, **kwargs)
        self.lazy_routers = {module: tuple(segments) for module, segments in routers.items()}
        self._bound: dict[str, list[BoundRouter]] = {}
        self._binding = threading.Lock()

    def bound_routers_of(self, module: str) -> list[BoundRouter]:
        """The router of `module` and its child routers, bound to this API: imported the first time."""
        with self._binding:
            if module not in self._bound:
                router = import_module(module).router
                if not isinstance(router, Router):
                    raise TypeError(f"{module}.router is not a ninja Router")
                mounts = router.build_routers("", self.default_router._decorators)
                self._bound[module] = [BoundRouter(mount, self) for mount in mounts]
                for mount in mounts:
                    mount.template._freeze()
            return self._bound[module]

    def _get_bound_routers(self) -> list[BoundRouter]:
        """Every router, the lazy ones included, in the declared order (ninja's OpenAPI builder)."""
        own = super()._get_bound_routers()  # the default router: this API's own operations
        return [*own, *(bound for module in self.lazy_routers for bound in self.bound_routers_of(module))]

    def _get_urls(self) -> list[URLResolver | URLPattern]:
        urls: list[URLResolver | URLPattern] = get_openapi_urls(self)
        for bound in super()._get_bound_routers():
            urls.extend(bound.urls_paths(bound.prefix))
        for module, segments in self.lazy_routers.items():
            first = "|".join(re.escape(segment) for segment in segments)
            # A lookahead: it selects the router by the path's first segment and consumes nothing, so the
            # router's own routes (`payments/<payment_id>`) match the whole path as they always have.
            urls.append(URLResolver(RegexPattern(rf"^(?=(?:{first})(?:/|$))"), _RouterURLs(self, module)))
        urls.append(get_root_url(self))
        return urls


class _RouterURLs(ModuleType):
    """The URLconf of one lazy router, a module made here: Django reads its `urlpatterns` when a
    path first reaches it."""

    def __init__(self, api: LazyRoutersAPI, module: str) -> None:
        super().__init__(f"{module}:urls")
        self.api = api
        self.module = module

    def __repr__(self) -> str:
        return f"<API router {self.module}>"

    @cached_property
    def urlpatterns(self) -> list[URLPattern]:
        return [url for bound in self.api.bound_routers_of(self.module) for url in bound.urls_paths(bound.prefix)]
