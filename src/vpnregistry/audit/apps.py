from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "vpnregistry.audit"
    label = "audit"
    verbose_name = "Audit log"
