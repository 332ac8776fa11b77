from django.urls import path

from reconciliation import payout_views

app_name = "payouts"
urlpatterns = [
    path("", payout_views.balance, name="balance"),
    path("payouts/", payout_views.payout_list, name="payout-list"),
    path("payouts/<str:payout_id>/", payout_views.payout_detail, name="payout-detail"),
    path("payouts/<str:payout_id>/payments.csv", payout_views.payout_export, name="payout-export"),
]
