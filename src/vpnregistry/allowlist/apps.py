from django.apps import AppConfig


class AllowlistConfig(AppConfig):
    name = "vpnregistry.allowlist"
    label = "allowlist"
