# Changes to memberships and users are audited by `audit.auth_events` (registered in the apps'
# `ready()`), whatever the entry point: this admin, a shell, a command (PCI DSS 10.2.1.5).
from django.contrib import admin

from merchants.models import Membership


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "merchant_id", "role", "created")
    list_filter = ("role",)
    search_fields = ("user__username", "user__email", "merchant_id")
    autocomplete_fields = ("user",)
