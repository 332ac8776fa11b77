from django.apps import AppConfig


class ApilogConfig(AppConfig):
    name = "apilog"
    default_auto_field = "django.db.models.BigAutoField"
