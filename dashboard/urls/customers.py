from django.urls import path

from dashboard.views import customers as customer_views

app_name = "customers"
urlpatterns = [
    path("", customer_views.customer_list, name="customer-list"),
    path("<str:customer_id>/", customer_views.customer_detail, name="customer-detail"),
]
