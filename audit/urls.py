from django.urls import path

from audit import views

app_name = "audit"
urlpatterns = [
    path("", views.audit_event_list_view, name="event-list"),
    path("export/", views.audit_event_export_view, name="event-export"),
    path("verify/", views.audit_verify_view, name="verify"),
    path("<str:event_id>/", views.audit_event_detail_view, name="event-detail"),
]
