from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "tuition.notifications"
    label = "notifications"
    verbose_name = "Notifications"
