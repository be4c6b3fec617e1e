from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "tuition.api"
    label = "api"
    verbose_name = "API"

    def ready(self) -> None:
        from . import schema  # noqa: F401  (registers the API-key scheme with the schema)
