from django.apps import AppConfig


class MerchantsConfig(AppConfig):
    name = "merchants"
    verbose_name = "Merchants, API keys and memberships"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Here, not at the top: the wiring imports Django models (this app's, and the audit app's
        # anchors), which exist only once the app registry is ready.
        from merchants.wiring import merchants_connect

        merchants_connect()
