from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in
from django.db.backends.signals import connection_created

from vpnregistry.private_files import on_connection_created


class AccountsConfig(AppConfig):
    name = "vpnregistry.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        # Load order: these import models, which are not ready while this module is imported.
        from vpnregistry.accounts.language import restore_at_login
        from vpnregistry.accounts.two_factor import note_enrolment_at_login

        user_logged_in.connect(note_enrolment_at_login, dispatch_uid="vpnregistry-totp-at-login")
        user_logged_in.connect(restore_at_login, dispatch_uid="vpnregistry-language-at-login")
        connection_created.connect(on_connection_created, dispatch_uid="vpnregistry-private-sqlite")
