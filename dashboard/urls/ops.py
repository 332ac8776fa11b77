from django.urls import path

from dashboard.views import ops as ops_views

app_name = "ops"
urlpatterns = [
    path("merchants/", ops_views.merchant_list, name="merchant-list"),
]
