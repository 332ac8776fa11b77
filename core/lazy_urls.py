"""URLconfs imported when a request first reaches them.

Django's `include()` imports its module at once, so the root URLconf used to import every page's
views (and through them the apps' services) before a fresh process answered anything: about 0.3 s of
a cold start (README "Lambda"). A `URLResolver` given the dotted path of its URLconf imports it only
when a path first reaches it, or when `reverse()` walks every resolver; `lazy_include()` builds that
resolver's arguments for `path()`, with the namespace the module's `app_name` would give.
"""

from __future__ import annotations


def lazy_include(module: str, app_name: str | None = None) -> tuple[str, str | None, str | None]:
    """For `path(route, lazy_include("payments.urls", "payments"))`: `include()`, imported lazily.
    `app_name` must be the module's own `app_name` (tests/paysite/test_lazy_routers.py checks it)."""
    return (module, app_name, app_name)
