from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "tuition.ledger"
    label = "ledger"
    verbose_name = "Ledger"
