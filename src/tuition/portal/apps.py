from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "tuition.portal"
    label = "portal"
    verbose_name = "Portal"
