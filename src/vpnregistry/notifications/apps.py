from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "vpnregistry.notifications"
    label = "notifications"
