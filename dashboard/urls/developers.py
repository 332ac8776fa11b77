from django.urls import path

from dashboard.views import developers as developers_views

app_name = "developers"
urlpatterns = [
    path("", developers_views.developers, name="developers"),
    path("keys/", developers_views.api_key_create, name="api-key-create"),
    path("keys/<str:key_id>/revoke/", developers_views.api_key_revoke, name="api-key-revoke"),
    path("webhook/", developers_views.webhook_update, name="webhook-update"),
    path("webhook/rotate/", developers_views.webhook_rotate, name="webhook-rotate"),
]
