"""What the merchants app connects once the app registry is ready (`MerchantsConfig.ready()` imports
this module then, since the models and selectors it names need the registry)."""

from __future__ import annotations

import dataclasses
from typing import Any

from django.contrib import messages
from django.contrib.auth.signals import user_logged_in

from audit.auth_events import audit_model_watch
from audit.selectors import audit_partition_source_add
from core.actor import CLI_ACTOR, actor_from_request
from merchants.models import Membership
from merchants.selectors import merchant_id_list, merchant_names
from merchants.services.team import team_invites_accept_on_sign_in


def _invites_accept(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """An existing user invited by email gets the membership at sign-in, whichever way they sign in
    (the sign-in page, the admin's, after setting a password): Django's `user_logged_in` signal, like
    the sign-in audit events of `audit.auth_events`."""
    actor = actor_from_request(request) if request is not None else CLI_ACTOR
    if actor.type != "user":  # `request.user` is still the anonymous user during `login()`
        actor = dataclasses.replace(actor, type="user", id=user.get_username())
    joined = team_invites_accept_on_sign_in(user=user, actor=actor)
    if joined and request is not None and hasattr(request, "_messages"):
        names = merchant_names(merchant_ids=[m.merchant_id for m in joined])
        for membership in joined:
            name = names.get(membership.merchant_id, membership.merchant_id)
            messages.success(request, f"You joined {name} as {membership.role}.")


def merchants_connect() -> None:
    audit_partition_source_add(merchant_id_list)
    # Every membership change is audited in its merchant's partition, whatever the entry point.
    audit_model_watch(
        Membership,
        name="membership",
        fields=("role",),
        entity_id=lambda membership: f"{membership.user.get_username()}@{membership.merchant_id}",
        merchant_id=lambda membership: membership.merchant_id,
    )
    user_logged_in.connect(_invites_accept, dispatch_uid="merchants:invites_accept")
