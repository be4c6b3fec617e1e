"""Automatic refills (SPEC §7): an owner's standing order to buy more value for one unit.

A *threshold* rule buys `amount` when the available balance falls below `threshold`; an
*allowance* buys `amount` on the first of every month (provider's time zone). Each refill it
buys is a `RefillFiring` with a key that is unique per rule: `threshold:<n>` (the n-th time the
balance crossed below the threshold) or `allowance:<YYYY-MM>`. That unique key, the `armed`
flag flipped by a guarded update, and the row lock on the rule are what make "at most one
refill per trigger and period" hold across concurrent workers and crashes
(docs/decisions/0017-automatic-refills.md).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class RefillRule(models.Model):
    class Kind(models.TextChoices):
        THRESHOLD = "threshold", _("Threshold")
        ALLOWANCE = "allowance", _("Monthly allowance")

    class Provider(models.TextChoices):
        CARD = "sandbox", _("Card")
        INVOICE = "invoice", _("Invoice")

    class PauseReason(models.TextChoices):
        NONE = "", _("Active")
        OWNER = "owner", _("Paused by an owner")
        CARD_DECLINED = "card_declined", _("Paused: the card was declined")

    account = models.ForeignKey(
        "accounts.TrainingAccount", on_delete=models.PROTECT, related_name="refill_rules"
    )
    unit = models.ForeignKey("ledger.Unit", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # Threshold rules only: buy when the available balance is below this (minor units).
    threshold = models.BigIntegerField(null=True, blank=True)
    amount = models.BigIntegerField(help_text="How much each refill buys (minor units).")
    provider = models.CharField(max_length=16, choices=Provider.choices)
    # The card provider's token for the stored card (never the card number) and its last digits.
    card_reference = models.CharField(max_length=64, blank=True)
    card_last4 = models.CharField(max_length=4, blank=True)
    # Who buys: the owner who set the rule (orders name a buyer). Null after that person left.
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Threshold rules: armed while the balance is at or above the threshold (or never fired).
    armed = models.BooleanField(default=True)
    firings = models.PositiveIntegerField(default=0, help_text="Threshold crossings that bought.")
    pause_reason = models.CharField(
        max_length=16, choices=PauseReason.choices, blank=True, default=""
    )
    paused_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    actor = models.CharField(max_length=200)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("automatic refill")
        ordering = ["account_id", "unit_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "unit"],
                condition=Q(deleted_at__isnull=True),
                name="refill_rule_one_per_unit",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="refill_rule_amount_positive"),
            models.CheckConstraint(
                condition=(Q(kind="threshold", threshold__gt=0))
                | Q(kind="allowance", threshold__isnull=True),
                name="refill_rule_threshold_fits_kind",
            ),
            models.CheckConstraint(
                condition=Q(provider="invoice") | ~Q(card_reference=""),
                name="refill_rule_card_has_reference",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.unit.code} for {self.account}"

    @property
    def is_paused(self) -> bool:
        return bool(self.pause_reason)


class RefillFiring(models.Model):
    """One time a rule bought (or tried to buy and the card was declined)."""

    class Outcome(models.TextChoices):
        PAID = "paid", _("Paid by card")
        INVOICED = "invoiced", _("Invoiced")
        DECLINED = "declined", _("Card declined")

    rule = models.ForeignKey(RefillRule, on_delete=models.PROTECT, related_name="firing_set")
    account = models.ForeignKey(
        "accounts.TrainingAccount", on_delete=models.PROTECT, related_name="+"
    )
    unit = models.ForeignKey("ledger.Unit", on_delete=models.PROTECT, related_name="+")
    # Unique per rule for every refill bought; empty (NULL) for a declined attempt, which buys
    # nothing and pauses the rule.
    key = models.CharField(max_length=32, null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    amount = models.BigIntegerField()
    order = models.OneToOneField(
        "checkout.Order",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="automatic_refill",
    )
    # What the balance was when a threshold rule fired (minor units); None for allowances.
    balance_before = models.BigIntegerField(null=True, blank=True)
    fired_at = models.DateTimeField()
    actor = models.CharField(max_length=200)

    class Meta:
        verbose_name = _("automatic refill firing")
        ordering = ["-fired_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "key"], name="refill_firing_once_per_key"),
        ]
        indexes = [models.Index(fields=["account", "-fired_at"], name="refill_firing_account")]

    def __str__(self) -> str:
        return f"Automatic refill {self.key}" if self.key else "Declined card attempt"
