from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Sign-ins and account changes are audited through Django's signals, whatever the entry point
        # (audit/auth_events.py; the one use of signals, docs/DECISIONS.md).
        from audit.auth_events import auth_events_connect

        auth_events_connect()
