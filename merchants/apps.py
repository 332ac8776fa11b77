from django.apps import AppConfig

from audit.selectors import audit_partition_source_add


class MerchantsConfig(AppConfig):
    name = "merchants"
    verbose_name = "Merchants, API keys and memberships"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Here, not at the top: the selectors import this app's Django models, which exist only once
        # the app registry is ready.
        from merchants.selectors import merchant_id_list

        audit_partition_source_add(merchant_id_list)
