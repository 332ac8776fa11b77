"""The root URLconf. Every part but the API is included lazily (`core.lazy_urls`) and the API builds
each app's router on its first request (`core.lazy_api`): a fresh process answering an API call
imports neither the pages' views nor the other routers (README "Lambda", cold start)."""

from django.urls import path

from core.lazy_urls import lazy_include
from paysite.api import api

urlpatterns = [
    path("api/v1/", api.urls),  # first, so that an API path never reaches the pages' URLconfs
    path("settings/", lazy_include("merchants.urls", "settings")),
    path("payments/", lazy_include("payments.urls", "payments")),
    path("disputes/", lazy_include("disputes.urls", "disputes")),
    path("settlements/", lazy_include("reconciliation.urls", "reconciliation")),
    path("balance/", lazy_include("reconciliation.payout_urls", "payouts")),
    path("customers/", lazy_include("dashboard.urls.customers", "customers")),
    path("developers/", lazy_include("dashboard.urls.developers", "developers")),
    path("ops/", lazy_include("dashboard.urls.ops", "ops")),
    path("audit/", lazy_include("audit.urls", "audit")),
    path("compliance/", lazy_include("compliance.urls", "compliance")),
    path("mfa/", lazy_include("paysite.mfa")),
    path("costs/", lazy_include("costs.urls", "costs")),
    path("admin/", lazy_include("paysite.admin_urls")),
    path("", lazy_include("paysite.page_urls")),  # last: its prefix matches every path
]

handler404 = "paysite.views.not_found"
handler500 = "paysite.views.server_error"
