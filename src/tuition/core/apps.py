from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "tuition.core"
    label = "core"
    verbose_name = "Core"
