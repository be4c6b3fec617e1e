from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "tuition.reports"
    label = "reports"
    verbose_name = "Reports"
