"""System checks of the webhook settings (`manage.py check --deploy`)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import CheckMessage, Tags, register
from django.core.checks import Warning as CheckWarning

PRIVATE_URLS_ON = "webhooks.W001"


@register(Tags.security, deploy=True)
def webhook_private_urls_check(app_configs, **kwargs) -> list[CheckMessage]:
    """Plain http and loopback or private webhook endpoints are for development only (SSRF)."""
    if not getattr(settings, "WEBHOOK_ALLOW_PRIVATE_URLS", False):
        return []
    return [
        CheckWarning(
            "WEBHOOK_ALLOW_PRIVATE_URLS is on: merchants can point webhooks at plain http and at loopback "
            "or private addresses, including this platform's own network.",
            hint="Leave WEBHOOK_ALLOW_PRIVATE_URLS unset (it follows DJANGO_DEBUG) or set it to 0 in production.",
            id=PRIVATE_URLS_ON,
        )
    ]
