from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from audit.services import audit_record
from core.actor import actor_from_request
from merchants.models import Membership


def _membership_audit(request, membership: Membership, action: str, *, before: str | None, after: str | None) -> None:
    """Membership changes are audited in the merchant's partition (PCI DSS 10.2.1.5, 10.2.2)."""
    audit_record(
        merchant_id=membership.merchant_id,
        actor=actor_from_request(request),
        action=action,
        entity_type="membership",
        entity_id=f"{membership.user.get_username()}@{membership.merchant_id}",
        before={"role": before} if before is not None else None,
        after={"role": after} if after is not None else None,
    )


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "merchant_id", "role", "created")
    list_filter = ("role",)
    search_fields = ("user__username", "user__email", "merchant_id")
    autocomplete_fields = ("user",)

    def save_model(self, request, obj: Membership, form, change: bool) -> None:
        before = Membership.objects.filter(pk=obj.pk).values_list("role", flat=True).first() if change else None
        super().save_model(request, obj, form, change)
        _membership_audit(
            request, obj, "membership.update" if change else "membership.create", before=before, after=obj.role
        )

    def delete_model(self, request, obj: Membership) -> None:
        super().delete_model(request, obj)
        _membership_audit(request, obj, "membership.delete", before=obj.role, after=None)

    def delete_queryset(self, request, queryset) -> None:
        removed = list(queryset.select_related("user"))
        super().delete_queryset(request, queryset)
        for membership in removed:
            _membership_audit(request, membership, "membership.delete", before=membership.role, after=None)


# Users: changes to accounts and their privileges are audited too (PCI DSS 10.2.1.5); passwords never.
_USER_FIELDS = ("is_active", "is_staff", "is_superuser")
User = get_user_model()


def _user_state(user) -> dict:
    return {name: getattr(user, name) for name in _USER_FIELDS}


def _user_audit(request, user, action: str, *, before: dict | None, after: dict | None) -> None:
    audit_record(
        merchant_id=None,
        actor=actor_from_request(request),
        action=action,
        entity_type="user",
        entity_id=user.get_username(),
        before=before,
        after=after,
    )


if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class AuditedUserAdmin(UserAdmin):
    def save_model(self, request, obj, form, change: bool) -> None:
        before = _user_state(User.objects.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)
        _user_audit(request, obj, "user.update" if change else "user.create", before=before, after=_user_state(obj))

    def delete_model(self, request, obj) -> None:
        before = _user_state(obj)
        super().delete_model(request, obj)
        _user_audit(request, obj, "user.delete", before=before, after=None)

    def delete_queryset(self, request, queryset) -> None:
        removed = [(user, _user_state(user)) for user in queryset]
        super().delete_queryset(request, queryset)
        for user, before in removed:
            _user_audit(request, user, "user.delete", before=before, after=None)
