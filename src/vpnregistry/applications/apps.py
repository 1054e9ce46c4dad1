from django.apps import AppConfig


class ApplicationsConfig(AppConfig):
    name = "vpnregistry.applications"
    label = "applications"
    verbose_name = "Applications"
