from django.apps import AppConfig


class MerchantsConfig(AppConfig):
    name = "merchants"
    verbose_name = "Merchants, API keys and memberships"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Here, not at the top: the selectors import Django models (this app's, and the audit app's
        # anchors), which exist only once the app registry is ready.
        from audit.auth_events import audit_model_watch
        from audit.selectors import audit_partition_source_add
        from merchants.models import Membership
        from merchants.selectors import merchant_id_list

        audit_partition_source_add(merchant_id_list)
        # Every membership change is audited in its merchant's partition, whatever the entry point.
        audit_model_watch(
            Membership,
            name="membership",
            fields=("role",),
            entity_id=lambda membership: f"{membership.user.get_username()}@{membership.merchant_id}",
            merchant_id=lambda membership: membership.merchant_id,
        )
