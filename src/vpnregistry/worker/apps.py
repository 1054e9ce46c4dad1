from django.apps import AppConfig


class WorkerConfig(AppConfig):
    name = "vpnregistry.worker"
    label = "worker"
    verbose_name = "Tasks"
