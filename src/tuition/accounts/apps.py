from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "tuition.accounts"
    label = "accounts"
    verbose_name = "Accounts"
