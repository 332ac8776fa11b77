from django.urls import path

from dashboard.views import developers as developers_views
from dashboard.views import logs as logs_views

app_name = "developers"
urlpatterns = [
    path("", developers_views.developers, name="developers"),
    path("keys/", developers_views.api_key_create, name="api-key-create"),
    path("keys/<str:key_id>/revoke/", developers_views.api_key_revoke, name="api-key-revoke"),
    path("endpoints/", developers_views.endpoint_create, name="endpoint-create"),
    path("endpoints/<str:endpoint_id>/", developers_views.endpoint_edit, name="endpoint-edit"),
    path("endpoints/<str:endpoint_id>/disable/", developers_views.endpoint_disable, name="endpoint-disable"),
    path("endpoints/<str:endpoint_id>/delete/", developers_views.endpoint_delete, name="endpoint-delete"),
    path("endpoints/<str:endpoint_id>/rotate/", developers_views.endpoint_rotate, name="endpoint-rotate"),
    path("endpoints/<str:endpoint_id>/test/", developers_views.endpoint_test, name="endpoint-test"),
    path("deliveries/", developers_views.delivery_log, name="delivery-log"),
    path("deliveries/<str:delivery_id>/resend/", developers_views.delivery_resend, name="delivery-resend"),
    path("logs/", logs_views.request_log, name="request-log"),
    path("logs/<str:log_id>/", logs_views.request_detail, name="request-detail"),
]
