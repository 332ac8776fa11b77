"""The pages at the root of the site: home, sign-in and account (included last by `paysite.urls`)."""

from django.urls import include, path

from core import theme
from dashboard.views import home
from merchants import views as merchant_views
from merchants import views_team as merchant_team
from paysite import passwords, views

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
]
