"""The services an order can restrict, edited by the regulator in the admin (English and Urdu names)."""

from django.contrib import admin

from vpnregistry.accounts.admin import KeptAdmin
from vpnregistry.restrictions.models import Service


@admin.register(Service)
class ServiceAdmin(KeptAdmin):
    list_display = ["code", "kind", "name", "name_ur"]
    list_filter = ["kind"]
    search_fields = ["code", "name", "name_ur"]
