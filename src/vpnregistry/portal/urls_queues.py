"""Routes of the queues, the turnaround report and notifications (issue 4, items 11 and 12)."""

from django.urls import path

from vpnregistry.portal import views_queues

urlpatterns = [
    path("queue/", views_queues.queue, name="queue"),
    path("turnaround/", views_queues.turnaround, name="turnaround"),
    path("turnaround/targets/", views_queues.step_target, name="step-target"),
    path("notifications/", views_queues.notification_list, name="notifications"),
    path("notifications/read/", views_queues.notification_read, name="notifications-read-all"),
    path("notifications/<int:pk>/read/", views_queues.notification_read, name="notification-read"),
    path("mail/failed/", views_queues.failed_mail, name="failed-mail"),
    path("mail/failed/retry/", views_queues.failed_mail_retry, name="failed-mail-retry"),
]
