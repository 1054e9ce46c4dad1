from django.apps import AppConfig


class SigningConfig(AppConfig):
    name = "vpnregistry.signing"
    label = "signing"
