from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "vpnregistry.api"
    label = "api"
