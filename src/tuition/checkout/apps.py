from django.apps import AppConfig


class CheckoutConfig(AppConfig):
    name = "tuition.checkout"
    label = "checkout"
    verbose_name = "Checkout"
