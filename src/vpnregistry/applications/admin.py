"""The regulator keeps its list of rejection reasons in the admin (the registry's one admin site).

Officers edit them there (see accounts/admin_site.py: by role, audited); accounts, tokens and
everything else go through the services, never through generic model editing.
"""

from django.contrib import admin

from vpnregistry.accounts.admin_site import RegulatorAdmin
from vpnregistry.applications.models import RejectionReason


@admin.register(RejectionReason)
class RejectionReasonAdmin(RegulatorAdmin):
    list_display = ["code", "text", "name_ur", "active"]
    list_filter = ["active"]
    search_fields = ["code", "text", "name_ur"]

    def has_delete_permission(self, request, obj=None):
        # Rejections refer to their reason; retire a reason by making it inactive.
        return False
