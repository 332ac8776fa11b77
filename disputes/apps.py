from django.apps import AppConfig
from django.utils.module_loading import import_string

from payments.hooks import on_capture

# Imported once the app registry is ready (the task module reaches Django models through payments).
AFTER_CAPTURE = "disputes.tasks.dispute_after_capture"


class DisputesConfig(AppConfig):
    name = "disputes"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # payments sits below disputes and never imports it: it calls what is registered here after
        # every capture (the sandbox processor opens a dispute on its dispute card's payments).
        on_capture(import_string(AFTER_CAPTURE))
