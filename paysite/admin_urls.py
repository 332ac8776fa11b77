"""The Django admin's URLs, imported when a path first reaches `/admin/` (`paysite.urls`)."""

from django.contrib import admin
from django.urls import path

urlpatterns = [path("", admin.site.urls)]
