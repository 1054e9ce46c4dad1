"""Routes of the transparency pages: the audit log for auditors, checkpoints and statistics for all."""

from django.urls import path, re_path

from vpnregistry.portal import views_transparency as views

urlpatterns = [
    path("audit/", views.audit_log, name="audit-log"),
    path("transparency/checkpoints/", views.checkpoint_list, name="checkpoint-list"),
    re_path(
        r"^transparency/checkpoints/(?P<which>latest|[0-9]+)\.json$",
        views.checkpoint_file,
        name="checkpoint-file",
    ),
    re_path(
        r"^transparency/checkpoints/(?P<which>latest|[0-9]+)\.json\.minisig$",
        views.checkpoint_signature,
        name="checkpoint-signature",
    ),
    path("transparency/key.pub", views.public_key, name="transparency-key"),
    path("statistics/", views.statistics_page, name="statistics"),
    path("statistics.json", views.statistics_json, name="statistics-json"),
    path("statistics.csv", views.statistics_csv, name="statistics-csv"),
]
