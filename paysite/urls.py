from django.contrib import admin
from django.urls import include, path

from core import theme
from dashboard.views import home
from merchants import views as merchant_views
from merchants import views_team as merchant_team
from paysite import passwords, views
from paysite.api import api

urlpatterns = [
    path("", home.home, name="home"),
    path("accounts/login/", views.PaysiteLoginView.as_view(), name="login"),
    path("accounts/logout/", views.logout_view, name="logout"),
    path("accounts/session/", views.session_idle, name="session-idle"),
    path("accounts/theme/", theme.theme_update, name="theme-update"),
    path("accounts/", include(passwords)),
    path("accounts/invite/", merchant_team.invite_accept, name="invite-accept"),
    path("accounts/invite/<str:token>/", merchant_team.invite_open, name="invite-open"),
    path("merchant/switch/", merchant_views.merchant_switch, name="merchant-switch"),
    path("merchant/choose/", merchant_views.merchant_choose, name="merchant-choose"),
    path("settings/", include("merchants.urls")),
    path("payments/", include("payments.urls")),
    path("disputes/", include("disputes.urls")),
    path("settlements/", include("reconciliation.urls")),
    path("balance/", include("reconciliation.payout_urls")),
    path("customers/", include("dashboard.urls.customers")),
    path("developers/", include("dashboard.urls.developers")),
    path("ops/", include("dashboard.urls.ops")),
    path("audit/", include("audit.urls")),
    path("compliance/", include("compliance.urls")),
    path("mfa/", include("paysite.mfa")),
    path("costs/", include("costs.urls")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
]

handler404 = "paysite.views.not_found"
handler500 = "paysite.views.server_error"
