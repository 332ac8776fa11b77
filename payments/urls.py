from django.urls import path

from payments import import_views, refund_request_views, views

app_name = "payments"
urlpatterns = [
    path("", views.payment_list, name="payment-list"),
    path("export/", views.payment_export, name="payment-export"),
    path("import/", import_views.payment_import_page, name="payment-import"),
    path("refund-requests/", refund_request_views.refund_request_list, name="refund-request-list"),
    path(
        "refund-requests/settings/",
        refund_request_views.refund_approval_settings_update,
        name="refund-approval-settings",
    ),
    path(
        "refund-requests/<str:request_id>/approve/",
        refund_request_views.refund_request_decide,
        {"decision": "approve"},
        name="refund-request-approve",
    ),
    path(
        "refund-requests/<str:request_id>/reject/",
        refund_request_views.refund_request_decide,
        {"decision": "reject"},
        name="refund-request-reject",
    ),
    path("<str:payment_id>/", views.payment_detail, name="payment-detail"),
    path("<str:payment_id>/capture/", views.payment_capture, name="payment-capture"),
    path("<str:payment_id>/cancel/", views.payment_cancel, name="payment-cancel"),
    path("<str:payment_id>/refund/", views.payment_refund, name="payment-refund"),
]
