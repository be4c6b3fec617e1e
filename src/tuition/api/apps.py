from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "tuition.api"
    label = "api"
    verbose_name = "API"
