from django.urls import path

from payments import views

app_name = "payments"
urlpatterns = [
    path("", views.payment_list, name="payment-list"),
    path("export/", views.payment_export, name="payment-export"),
    path("<str:payment_id>/", views.payment_detail, name="payment-detail"),
    path("<str:payment_id>/capture/", views.payment_capture, name="payment-capture"),
    path("<str:payment_id>/cancel/", views.payment_cancel, name="payment-cancel"),
    path("<str:payment_id>/refund/", views.payment_refund, name="payment-refund"),
]
