"""The actor of an action: who did it and from where (PCI DSS 10.2.2)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Actor:
    """Who did it and from where (PCI DSS 10.2.2)."""

    type: str  # user | api_key | system
    id: str
    ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = None


SYSTEM = Actor(type="system", id="paysite")


def actor_from_request(request: Any, *, api_key_id: str | None = None) -> Actor:
    if api_key_id:
        actor_type, actor_id = "api_key", api_key_id
    elif getattr(request, "user", None) is not None and request.user.is_authenticated:
        actor_type, actor_id = "user", request.user.get_username()
    else:
        actor_type, actor_id = "anonymous", "-"
    return Actor(
        type=actor_type,
        id=actor_id,
        ip=request.META.get("REMOTE_ADDR"),
        user_agent=(request.META.get("HTTP_USER_AGENT") or "")[:512] or None,
        request_id=getattr(request, "request_id", None),
    )


CLI_ACTOR = Actor(type="system", id="manage.py")
