"""`tuition number_left_over_documents`: number the receipts and invoices of checkouts that
stopped between their commit and their numbering. Idempotent: an order's documents are issued
once, under the order's lock."""

from django.core.management.base import BaseCommand

from tuition.checkout.tasks import number_left_over_documents


class Command(BaseCommand):
    help = "Number the documents of checkouts left without them."

    def handle(self, *args, **options):
        count = number_left_over_documents.call()
        self.stdout.write(f"Numbered the documents of {count} orders.")
