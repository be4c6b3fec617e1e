from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "tuition.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from tuition.notifications import directory

        from .notification_directory import AccountDirectory

        directory.provide(AccountDirectory())
