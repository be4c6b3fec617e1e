"""Notifications: what happened (events), to whom it goes (deliveries), and webhook endpoints.

An event is written in the transaction of the change it describes (a transactional outbox); the
worker fans it out to its delivery rows once (`fan_out`), then claims each delivery with a
guarded update, sends it, and marks it sent; the delivery row, not the task queue, is the
record of what was sent.
"""

from django.db import models
from django.db.models import Q


class NotificationEvent(models.Model):
    """One thing an account's people, or one named person (personal kinds), and integrating
    systems should hear about."""

    kind = models.CharField(max_length=64, db_index=True)
    # Empty for a personal event with no account (a learner's card or coupon order).
    account = models.ForeignKey(
        "accounts.TrainingAccount",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notification_events",
    )
    data = models.JSONField(default=dict)
    # "At most once" in the database itself: a second record with the same key is a no-op.
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    # A personal event's people (user ids); None: the account's people, found at fan-out.
    recipient_ids = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(db_index=True)
    # When the worker wrote its deliveries (`fan_out`); None: still in the outbox.
    fanned_out_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["created_at"],
                name="event_not_fanned_out",
                condition=Q(fanned_out_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # waiting for its (next) attempt at `next_attempt_at`
    SENDING = "sending", "Sending"  # claimed by a worker until `lease_until`
    SENT = "sent", "Sent"
    DEAD = "dead", "Dead"  # gave up after the last attempt


class Delivery(models.Model):
    """What every delivery has: a claimable state, an attempt counter and a retry time."""

    event = models.ForeignKey(NotificationEvent, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        abstract = True


class EmailDelivery(Delivery):
    """One email of one event to one person."""

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    email = models.EmailField()
    # Members who may not see the balance get the notice without balance figures.
    show_balance = models.BooleanField(default=True)
    message_id = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "user"], name="email_delivery_once_per_user")
        ]
        indexes = [
            models.Index(
                fields=["status", "next_attempt_at"],
                name="email_delivery_due",
                condition=Q(status__in=["pending", "sending"]),
            ),
        ]

    def __str__(self) -> str:
        return f"email {self.pk} to {self.email} ({self.status})"


class WebhookSubscription(models.Model):
    """An integrating system's endpoint and the event kinds it receives."""

    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True, default="")
    event_kinds = models.JSONField(default=list, help_text="Event kinds; empty = every kind.")
    # Standard Webhooks secret ("whsec_" + base64). The previous one keeps signing during a
    # rotation's grace period, so consumers can switch without dropping deliveries.
    secret = models.CharField(max_length=200)
    previous_secret = models.CharField(max_length=200, blank=True, default="")
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    # Only this account's events; empty = every account's (the provider's own systems).
    account = models.ForeignKey(
        "accounts.TrainingAccount",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="webhook_subscriptions",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=200, blank=True, default="")
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.url

    def wants(self, kind: str) -> bool:
        return not self.event_kinds or kind in self.event_kinds


class WebhookDelivery(Delivery):
    """One event sent to one subscription, with the outcome of the last attempt."""

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "subscription"], name="webhook_delivery_once_per_subscription"
            )
        ]
        indexes = [
            models.Index(
                fields=["status", "next_attempt_at"],
                name="webhook_delivery_due",
                condition=Q(status__in=["pending", "sending"]),
            ),
        ]

    def __str__(self) -> str:
        return f"webhook {self.pk} to {self.subscription_id} ({self.status})"

    @property
    def message_id(self) -> str:
        """The Standard Webhooks `webhook-id`: the same on every retry, so consumers dedupe."""
        return f"msg_{self.pk}"


class LowBalanceState(models.Model):
    """Whether an account's balance in a unit is below its alert threshold, so an alert is
    sent once per crossing (and again only after the balance has recovered)."""

    account = models.ForeignKey(
        "accounts.TrainingAccount", on_delete=models.CASCADE, related_name="+"
    )
    unit_code = models.CharField(max_length=16)
    is_low = models.BooleanField(default=False)
    crossings = models.PositiveIntegerField(default=0)
    changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "unit_code"], name="low_balance_state_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.account_id}/{self.unit_code}: {'low' if self.is_low else 'ok'}"


class PeriodicRun(models.Model):
    """One run of a periodic job in one time slot: the unique pair lets any number of periodic
    runners tick at once while each job is enqueued once per slot."""

    job = models.CharField(max_length=64)
    slot = models.BigIntegerField()
    enqueued_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "slot"], name="periodic_run_once_per_slot")
        ]

    def __str__(self) -> str:
        return f"{self.job}@{self.slot}"
