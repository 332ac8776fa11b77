from django.apps import AppConfig


class PaysiteConfig(AppConfig):
    name = "paysite"
    verbose_name = "Paysite identity and tenancy"
    default_auto_field = "django.db.models.BigAutoField"
