from django.contrib import admin

from paysite.models import Membership


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "merchant_id", "role", "created")
    list_filter = ("role",)
    search_fields = ("user__username", "user__email", "merchant_id")
    autocomplete_fields = ("user",)
