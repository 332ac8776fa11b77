from django.urls import path

from merchants import views

app_name = "settings"
urlpatterns = [
    path("", views.merchant_settings_page, name="merchant-settings"),
    path("ops/", views.merchant_settings_ops, name="ops"),
]
