"""The roles a member holds at a merchant, weakest first; each role can do what the weaker ones can."""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    VIEWER = "viewer", "Viewer"
    OPERATOR = "operator", "Operator"
    ADMIN = "admin", "Admin"


ROLE_RANK = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}


def role_allows(held: str | None, needed: str) -> bool:
    return held is not None and ROLE_RANK[Role(held)] >= ROLE_RANK[Role(needed)]
