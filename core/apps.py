from django.apps import AppConfig
from ninja import Schema


class CoreConfig(AppConfig):
    name = "core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Every API schema made from here on (the apps' schemas and the response models ninja makes
        # for each operation) builds its pydantic validator and serializer when first used, not when
        # its class is made: a fresh process then builds only those of the operations it answers
        # (README "Lambda", cold start). The apps' schemas are imported after this runs (core is the
        # first of the project's apps), which tests/paysite/test_lazy_routers.py checks.
        Schema.model_config["defer_build"] = True
