from django.apps import AppConfig

from webhooks import checks  # noqa: F401  (registers the deploy check of WEBHOOK_ALLOW_PRIVATE_URLS)


class WebhooksConfig(AppConfig):
    name = "webhooks"
    default_auto_field = "django.db.models.BigAutoField"
