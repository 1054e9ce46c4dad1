"""Routes of the transparency pages: the audit log for auditors, public statistics."""

urlpatterns: list = []
