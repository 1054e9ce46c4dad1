"""The regulator keeps its list of rejection reasons in the Django admin."""

from django.contrib import admin

from vpnregistry.applications.models import RejectionReason


@admin.register(RejectionReason)
class RejectionReasonAdmin(admin.ModelAdmin):
    list_display = ["code", "text", "active"]
    list_filter = ["active"]
    search_fields = ["code", "text"]

    def has_delete_permission(self, request, obj=None):
        # Rejections refer to their reason; retire a reason by making it inactive.
        return False
