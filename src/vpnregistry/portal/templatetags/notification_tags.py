"""The unread-notification count in the navigation: a bounded count over a partial index."""

from django import template

from vpnregistry.notifications.models import Notification

register = template.Library()
CAP = 99


@register.simple_tag
def unread_notifications(user) -> str:
    if not getattr(user, "is_authenticated", False):
        return ""
    n = Notification.objects.filter(recipient=user, read_at__isnull=True)[: CAP + 1].count()
    return f"{CAP}+" if n > CAP else str(n) if n else ""
