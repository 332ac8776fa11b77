"""Identity lives in the relational database: Django users and their merchant memberships."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Role(models.TextChoices):
    VIEWER = "viewer", "Viewer"
    OPERATOR = "operator", "Operator"
    ADMIN = "admin", "Admin"


ROLE_RANK = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}


class Membership(models.Model):
    """A user's role at one merchant. Merchants themselves live in DynamoDB (`mer_` ids)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    merchant_id = models.CharField(max_length=40, db_index=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "merchant_id"], name="one_membership_per_merchant")]
        ordering = ["merchant_id", "user_id"]

    def __str__(self) -> str:
        return f"{self.user} is {self.role} at {self.merchant_id}"

    def allows(self, role: str) -> bool:
        return role_allows(self.role, role)


def role_allows(held: str | None, needed: str) -> bool:
    return held is not None and ROLE_RANK[Role(held)] >= ROLE_RANK[Role(needed)]
