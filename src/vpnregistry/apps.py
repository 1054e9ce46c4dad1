"""The admin, for the regulator's reference data, with a site that admits officers only."""

from django.contrib.admin.apps import AdminConfig


class RegistryAdminConfig(AdminConfig):
    default_site = "vpnregistry.accounts.admin_site.RegistryAdminSite"
