from django.urls import path

from paysite import ops_views

app_name = "ops"
urlpatterns = [
    path("merchants/", ops_views.merchant_list, name="merchant-list"),
]
