from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "tuition.ops"
    label = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from . import tasks_context

        tasks_context.connect()
