from django.apps import AppConfig


class RegistrationsConfig(AppConfig):
    name = "vpnregistry.registrations"
    label = "registrations"
