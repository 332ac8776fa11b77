"""The API's routers (core.lazy_api) and the pages' URLconfs (core.lazy_urls) are imported when a
request first reaches them, and every operation and page still resolves and reverses as before."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from importlib import import_module
from pathlib import Path

from django.urls import URLResolver, resolve, reverse

from paysite import urls
from paysite.api import ROUTERS, api

ROOT = Path(__file__).resolve().parents[2]

FRESH_PROCESS = """
import json, sys
import django
django.setup()
from django.urls import resolve
WATCHED = set(ROUTERS) | {"payments.views", "dashboard.views.home", "costs.views", "paysite.page_urls"}
before = sorted(name for name in sys.modules if name in WATCHED)
match = resolve("/api/v1/payments/pay_01ABC/refunds")
from payments.schemas import RefundIn
built_at_import = RefundIn.__pydantic_complete__
amount = RefundIn.model_validate({"amount": 700}).amount
print(json.dumps({"before": before, "after": sorted(name for name in sys.modules if name in WATCHED),
                  "view": match.url_name, "schema": [built_at_import, amount, RefundIn.__pydantic_complete__]}))
"""


def test_a_fresh_process_imports_only_the_router_its_request_reaches(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "FIELD_", "FINGERPRINT", "AUDIT_"))}
    env.update(DJANGO_SETTINGS_MODULE="paysite.settings", DJANGO_DEBUG="1", PAYSITE_VAR_DIR=str(tmp_path))
    env.update(PAYSITE_ENV_FILE="", PYTHONPATH=str(ROOT))

    result = subprocess.run(
        [sys.executable, "-c", f"ROUTERS = {sorted(ROUTERS)!r}\n{FRESH_PROCESS}"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )

    seen = json.loads(result.stdout.strip().splitlines()[-1])
    # The refund schema's validator is built at its first use, not when the router is imported.
    assert seen == {"before": [], "after": ["payments.api"], "view": "refund_create", "schema": [False, 700, True]}


def _example(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x_1", path)


def test_every_operation_of_the_openapi_document_resolves_to_its_view():
    schema = api.get_openapi_schema()
    operations = [
        (path, method, operation["operationId"])
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    ]

    assert len(operations) >= 30  # every app's, not an empty document
    for path, method, operation_id in operations:
        match = resolve(_example(path))
        assert match.namespace == "api", (path, method, operation_id)
        assert reverse(match.view_name, kwargs=match.kwargs) == _example(path)


def test_each_router_serves_only_paths_under_its_declared_segments():
    for module, segments in ROUTERS.items():
        for bound in api.bound_routers_of(module):
            for path in bound.path_operations:
                assert path.strip("/").split("/")[0] in segments, (module, path)


def test_reverse_reaches_the_lazy_routers_and_the_api_root():
    assert reverse("api:openapi-json") == "/api/v1/openapi.json"
    assert reverse("api:payment_list") == "/api/v1/payments"
    assert resolve("/api/v1/").url_name == "api-root"


def test_each_lazy_include_carries_its_modules_own_namespace():
    lazy = [
        pattern
        for pattern in urls.urlpatterns
        if isinstance(pattern, URLResolver) and isinstance(pattern.urlconf_name, str)
    ]

    assert len(lazy) >= 10
    for resolver in lazy:
        module = import_module(resolver.urlconf_name)
        assert resolver.app_name == getattr(module, "app_name", None), resolver.urlconf_name
        assert resolver.namespace == resolver.app_name


def test_the_pages_resolve_through_the_lazy_includes():
    assert resolve("/").url_name == "home"
    assert resolve("/payments/").view_name == "payments:payment-list"
    assert reverse("admin:index") == "/admin/"
    assert reverse("login") == "/accounts/login/"


def test_every_api_schema_is_built_when_first_used_not_when_imported():
    from ninja import Schema

    for module in ROUTERS:
        import_module(module)
    ours = [
        cls
        for cls in _subclasses(Schema)
        if cls.__module__.split(".")[0] in {"core", *(name.split(".")[0] for name in ROUTERS)}
    ]

    assert len(ours) >= 50
    assert [cls for cls in ours if not cls.model_config.get("defer_build")] == []


def _subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found
