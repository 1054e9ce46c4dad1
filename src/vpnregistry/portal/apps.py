from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "vpnregistry.portal"
    label = "portal"
