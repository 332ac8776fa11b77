from django.apps import AppConfig

from payments.hooks import on_capture

# Imported at the first capture, not at start: a process that never captures never loads the disputes
# services (README "Lambda", cold start).
AFTER_CAPTURE = "disputes.tasks.dispute_after_capture"


class DisputesConfig(AppConfig):
    name = "disputes"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # payments sits below disputes and never imports it: it calls what is registered here after
        # every capture (the sandbox processor opens a dispute on its dispute card's payments).
        on_capture(AFTER_CAPTURE)
