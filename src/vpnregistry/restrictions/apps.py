from django.apps import AppConfig


class RestrictionsConfig(AppConfig):
    name = "vpnregistry.restrictions"
    label = "restrictions"
