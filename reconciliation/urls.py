from django.urls import path

from reconciliation import views

app_name = "reconciliation"
urlpatterns = [
    path("", views.settlement_list, name="settlement-list"),
    path("upload/", views.settlement_upload, name="settlement-upload"),
    path("<str:settlement_id>/", views.settlement_detail, name="settlement-detail"),
    path("<str:settlement_id>/discrepancies.csv", views.discrepancy_export, name="discrepancy-export"),
    path(
        "<str:settlement_id>/discrepancies/resolve/",
        views.discrepancy_resolve_bulk,
        name="discrepancy-resolve-bulk",
    ),
    path(
        "<str:settlement_id>/discrepancies/<str:discrepancy_id>/resolve/",
        views.discrepancy_resolve,
        name="discrepancy-resolve",
    ),
]
