from django.apps import AppConfig


class CheckoutConfig(AppConfig):
    name = "tuition.checkout"
    label = "checkout"
    verbose_name = "Checkout"

    def ready(self) -> None:
        # Models are loaded only now: the registration email carries the order's documents.
        from tuition.notifications import attachments
        from tuition.notifications.kinds import REGISTRATION_CONFIRMED

        from .email_documents import registration_documents

        attachments.register(REGISTRATION_CONFIRMED, registration_documents)
