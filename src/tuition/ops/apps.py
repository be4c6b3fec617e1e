from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "tuition.ops"
    label = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from . import checks, tasks_context  # noqa: F401 - registers the deploy check

        tasks_context.connect()
