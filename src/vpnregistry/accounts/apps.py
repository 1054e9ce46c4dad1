from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "vpnregistry.accounts"
    label = "accounts"
    verbose_name = "Accounts"
