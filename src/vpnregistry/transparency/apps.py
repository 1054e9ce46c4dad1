from django.apps import AppConfig


class TransparencyConfig(AppConfig):
    name = "vpnregistry.transparency"
    label = "transparency"
