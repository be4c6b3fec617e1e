from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "tuition.privacy"
    label = "privacy"
    verbose_name = "Privacy"
