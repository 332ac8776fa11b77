from django.apps import AppConfig

from core import dynamodb


class CostsConfig(AppConfig):
    name = "costs"
    verbose_name = "DynamoDB costs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Here, not at the top: `capacity` imports this app's Django model, which exists only once the
        # app registry is ready.
        from costs import capacity

        dynamodb.on_new_client(capacity.install_on_client)
