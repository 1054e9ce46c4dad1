"""The regulator keeps its list of rejection reasons in the Django admin.

The admin is a site of its own holding only the registry's reference lists: accounts, tokens and
everything else go through the services, never through generic model editing. Only staff
accounts (`is_staff`, made with `manage.py createsuperuser` or by setting the flag) can sign in.
"""

from django.contrib import admin

from vpnregistry.applications.models import RejectionReason


class RegistryAdminSite(admin.AdminSite):
    site_header = "vpnregistry: reference lists"
    site_title = "vpnregistry admin"


site = RegistryAdminSite(name="admin")


@admin.register(RejectionReason, site=site)
class RejectionReasonAdmin(admin.ModelAdmin):
    list_display = ["code", "text", "active"]
    list_filter = ["active"]
    search_fields = ["code", "text"]

    def has_delete_permission(self, request, obj=None):
        # Rejections refer to their reason; retire a reason by making it inactive.
        return False
