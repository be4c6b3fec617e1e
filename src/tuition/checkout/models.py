"""Orders, registrations, bookings, receipts and invoices.

An order records what was bought and how it was paid; a paid (or, for invoice orders, pending)
order holds a registration (the learner's right to the activity or group) and, for a dated
activity, a booking of one session. Receipts and invoices are numbered without gaps per year
from a locked counter row. Only tuition.checkout.services writes these rows.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ItemKind(models.TextChoices):
    ACTIVITY = "activity", _("Activity")
    GROUP = "group", _("Group")
    REFILL = "refill", _("Refill")


class Order(models.Model):
    class Method(models.TextChoices):
        CARD = "card", _("Card")
        INVOICE = "invoice", _("Invoice")
        COUPON = "coupon", _("Coupon (free)")
        TRAINING_CREDIT = "training_credit", _("Training credit")
        TOKENS = "tokens", _("Tokens")

    class Status(models.TextChoices):
        PENDING_PAYMENT = "pending_payment", _("Awaiting payment")
        AWAITING_APPROVAL = "awaiting_approval", _("Waiting for approval")
        PAID = "paid", _("Paid")
        CANCELLED = "cancelled", _("Cancelled")
        REFUNDED = "refunded", _("Refunded")

    number = models.CharField(max_length=32, unique=True)
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders"
    )
    account = models.ForeignKey(
        "accounts.TrainingAccount",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    item_kind = models.CharField(max_length=16, choices=ItemKind.choices)
    activity = models.ForeignKey(
        "catalog.Activity", null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    group = models.ForeignKey(
        "catalog.Group", null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    session = models.ForeignKey(
        "catalog.Session", null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    title = models.CharField(max_length=200)
    list_price = models.BigIntegerField(help_text=_("USD list price in cents."))
    unit = models.ForeignKey("ledger.Unit", on_delete=models.PROTECT, related_name="+")
    price = models.BigIntegerField(help_text=_("The price in `unit` before any discount."))
    discount = models.BigIntegerField(default=0)
    charged = models.BigIntegerField(help_text=_("What was charged, in `unit`."))
    # What has gone back so far, by partial refunds and a full refund alike; never more than
    # `charged` (a guarded update under the wallet lock, backed by a CHECK constraint).
    refunded_amount = models.BigIntegerField(default=0, help_text=_("Refunded so far, in `unit`."))
    method = models.CharField(max_length=20, choices=Method.choices)
    provider = models.CharField(max_length=20, blank=True, default="")
    payment_reference = models.CharField(max_length=200, blank=True, default="")
    status = models.CharField(max_length=20, choices=Status.choices)
    code = models.ForeignKey(
        "codes.RedemptionCode",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    coupon = models.ForeignKey(
        "codes.Coupon", null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    code_hint = models.CharField(max_length=8, blank=True, default="")
    transfer = models.OneToOneField(
        "ledger.Transfer", null=True, blank=True, on_delete=models.PROTECT, related_name="order"
    )
    refund_transfer = models.OneToOneField(
        "ledger.Transfer",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="refunded_order",
    )
    # A refill: what lot it bought (issued at once for card, when paid for invoice).
    refill_unit = models.ForeignKey(
        "ledger.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    refill_amount = models.BigIntegerField(null=True, blank=True)
    refill_lot = models.OneToOneField(
        "ledger.Lot", null=True, blank=True, on_delete=models.PROTECT, related_name="refill_order"
    )
    # A redemption that waits for the account owner's approval (SPEC §7): its value is held.
    hold = models.OneToOneField(
        "ledger.Hold", null=True, blank=True, on_delete=models.PROTECT, related_name="order"
    )
    created_at = models.DateTimeField(db_index=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    actor = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["learner", "activity"],
                name="order_one_awaiting_approval_per_activity",
                condition=Q(activity__isnull=False) & Q(status="awaiting_approval"),
            ),
            models.UniqueConstraint(
                fields=["learner", "group"],
                name="order_one_awaiting_approval_per_group",
                condition=Q(group__isnull=False) & Q(status="awaiting_approval"),
            ),
            models.CheckConstraint(
                condition=Q(charged__gte=0)
                & Q(discount__gte=0)
                & Q(price__gte=0)
                & Q(list_price__gte=0),
                name="order_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0) & Q(refunded_amount__lte=models.F("charged")),
                name="order_refunded_within_charged",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class Registration(models.Model):
    """A learner's paid right to an activity or a group. At most one live registration per
    learner and item, enforced by the database (a double submit cannot make two).

    Buying a group also registers the learner for each of its activities: one registration per
    activity, `part_of` the group's, without an order of its own (the group's order paid). They
    live and end with the group's registration, which holds the bookings of its dated
    activities; the per-activity rows are what make buying one of them again
    `already_registered`."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting payment")
        ACTIVE = "active", _("Active")
        CANCELLED = "cancelled", _("Cancelled")

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="registrations"
    )
    order = models.OneToOneField(
        Order, null=True, blank=True, on_delete=models.PROTECT, related_name="registration"
    )
    part_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="parts"
    )
    item_kind = models.CharField(max_length=16, choices=ItemKind.choices)
    activity = models.ForeignKey(
        "catalog.Activity",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="registrations",
    )
    group = models.ForeignKey(
        "catalog.Group",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="registrations",
    )
    status = models.CharField(max_length=16, choices=Status.choices)
    created_at = models.DateTimeField()
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.CharField(max_length=200, blank=True, default="")
    refunded = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["learner", "activity"],
                name="registration_one_live_per_activity",
                condition=Q(activity__isnull=False) & Q(status__in=["pending", "active"]),
            ),
            models.UniqueConstraint(
                fields=["learner", "group"],
                name="registration_one_live_per_group",
                condition=Q(group__isnull=False) & Q(status__in=["pending", "active"]),
            ),
            models.CheckConstraint(
                condition=Q(order__isnull=False, part_of__isnull=True)
                | Q(order__isnull=True, part_of__isnull=False),
                name="registration_own_order_or_part_of_a_group",
            ),
        ]

    def __str__(self) -> str:
        return f"Registration {self.pk}"


class Booking(models.Model):
    """A seat in one session, held by a registration for one of its (dated) activities."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Booked")
        CANCELLED = "cancelled", _("Cancelled")
        MOVED = "moved", _("Moved to another session")

    registration = models.ForeignKey(
        Registration, on_delete=models.PROTECT, related_name="bookings"
    )
    activity = models.ForeignKey("catalog.Activity", on_delete=models.PROTECT, related_name="+")
    session = models.ForeignKey(
        "catalog.Session", on_delete=models.PROTECT, related_name="bookings"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["registration", "activity"],
                name="booking_one_active_per_activity",
                condition=Q(status="active"),
            ),
        ]

    def __str__(self) -> str:
        return f"Booking {self.pk}"


class NumberedDocument(models.Model):
    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveIntegerField()
    sequence = models.PositiveIntegerField()
    number = models.CharField(max_length=32, unique=True)
    issued_at = models.DateTimeField()
    amount = models.BigIntegerField()
    unit = models.ForeignKey("ledger.Unit", on_delete=models.PROTECT, related_name="+")
    list_price = models.BigIntegerField(help_text=_("USD list price in cents."))

    class Meta:
        abstract = True
        ordering = ["-year", "-sequence"]

    def __str__(self) -> str:
        return self.number


class Receipt(NumberedDocument):
    """Proof that an order was paid (by code, card or a free coupon)."""

    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="receipt")

    class Meta(NumberedDocument.Meta):
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        constraints = [
            models.UniqueConstraint(fields=["year", "sequence"], name="receipt_year_sequence")
        ]


class Invoice(NumberedDocument):
    """What the order costs (issued at checkout; invoice-provider orders are paid later)."""

    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="invoice")

    class Meta(NumberedDocument.Meta):
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        constraints = [
            models.UniqueConstraint(fields=["year", "sequence"], name="invoice_year_sequence")
        ]


class DocumentCounter(models.Model):
    """The last number given to a kind of document in a year. Incremented by one UPDATE that
    holds the row lock until commit, so numbers are gap-free and never repeat."""

    kind = models.CharField(max_length=16)
    year = models.PositiveIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "year"], name="document_counter_kind_year")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.year}: {self.last}"


class CreditNote(models.Model):
    """A partial refund of an order and its document: part of what was charged went back into
    the lots that paid it (`transfer`, a reversal of part of the redemption), with a reason.
    Numbered after the invoice it credits (CN-2026-000042-1, -2, ...), so it needs no counter."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="credit_notes")
    transfer = models.OneToOneField(
        "ledger.Transfer", on_delete=models.PROTECT, related_name="credit_note"
    )
    sequence = models.PositiveIntegerField(help_text="1 for the order's first partial refund.")
    number = models.CharField(max_length=48, unique=True)
    issued_at = models.DateTimeField(db_index=True)
    amount = models.BigIntegerField(help_text="Refunded, in `unit`.")
    unit = models.ForeignKey("ledger.Unit", on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=500)
    actor = models.CharField(max_length=200)

    class Meta:
        ordering = ["issued_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "sequence"], name="credit_note_order_sequence"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="credit_note_amount_positive"),
        ]

    def __str__(self) -> str:
        return self.number


from .approval_models import ApprovalPolicy  # noqa: E402  (registered with the app's models)

__all__ = ["ApprovalPolicy"]
