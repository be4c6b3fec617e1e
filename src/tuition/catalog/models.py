"""The catalog: activities (courses, certifications, events), groups of activities (programs,
learning paths, bundles), dated sessions, and prices in USD and in token units.

Prices are integers in minor units: `price` is USD cents; a TokenPrice amount is in its unit's
minor unit. Rules live in catalog.services; these models only hold the facts.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Activity(models.Model):
    class Kind(models.TextChoices):
        COURSE = "course", _("Course")
        CERTIFICATION = "certification", _("Certification")
        EVENT = "event", _("Event")

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.COURSE)
    price = models.BigIntegerField(default=0, help_text=_("USD list price in cents."))
    is_dated = models.BooleanField(
        default=False, help_text=_("Learners must book one of its sessions when they enroll.")
    )
    refund_window_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=_(
            "Cancelling within this many days of purchase refunds; empty = only staff refund."
        ),
    )
    learner_can_cancel = models.BooleanField(default=True)
    is_published = models.BooleanField(default=True)
    external_id = models.CharField(max_length=200, blank=True, default="", db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["title", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="activity_price_not_negative")
        ]

    def __str__(self) -> str:
        return self.title


class Group(models.Model):
    """A program, learning path or bundle: buying it enrolls in all of its activities."""

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    price = models.BigIntegerField(default=0, help_text=_("USD list price in cents."))
    activities = models.ManyToManyField(Activity, related_name="groups", blank=True)
    refund_window_days = models.PositiveIntegerField(null=True, blank=True)
    learner_can_cancel = models.BooleanField(default=True)
    is_published = models.BooleanField(default=True)
    external_id = models.CharField(max_length=200, blank=True, default="", db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(m2m_fields=[activities])

    class Meta:
        verbose_name = _("group")
        verbose_name_plural = _("groups")
        ordering = ["title", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="group_price_not_negative")
        ]

    def __str__(self) -> str:
        return self.title


class Session(models.Model):
    """One dated run of an activity. `booked` is the running count of active bookings, changed
    only by guarded updates (`booked < capacity`) under the session's row lock."""

    activity = models.ForeignKey(Activity, on_delete=models.PROTECT, related_name="sessions")
    starts_at = models.DateTimeField(db_index=True)
    ends_at = models.DateTimeField()
    timezone = models.CharField(max_length=64, default="UTC")
    location = models.CharField(max_length=200, blank=True, default="")
    capacity = models.PositiveIntegerField()
    booked = models.PositiveIntegerField(default=0, editable=False)
    is_cancelled = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["booked"])

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(booked__gte=0), name="session_booked_not_negative"),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="session_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.activity_id} @ {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def seats_left(self) -> int:
        return max(self.capacity - self.booked, 0)


class TokenPrice(models.Model):
    """The price of an activity or a group in one token unit (USD uses the item's `price`)."""

    unit = models.ForeignKey("ledger.Unit", on_delete=models.PROTECT, related_name="+")
    amount = models.BigIntegerField(help_text=_("In the unit's minor unit."))
    activity = models.ForeignKey(
        Activity, null=True, blank=True, on_delete=models.CASCADE, related_name="token_prices"
    )
    group = models.ForeignKey(
        Group, null=True, blank=True, on_delete=models.CASCADE, related_name="token_prices"
    )

    class Meta:
        verbose_name = _("token price")
        verbose_name_plural = _("token prices")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="token_price_not_negative"),
            models.CheckConstraint(
                condition=(Q(activity__isnull=False) & Q(group__isnull=True))
                | (Q(activity__isnull=True) & Q(group__isnull=False)),
                name="token_price_one_item",
            ),
            models.UniqueConstraint(
                fields=["activity", "unit"],
                name="token_price_activity_unit",
                condition=Q(activity__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["group", "unit"],
                name="token_price_group_unit",
                condition=Q(group__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id}:{self.amount}"


class RefillPrice(models.Model):
    """What owners pay (USD cents) for one major unit of a unit when they buy a refill.
    USD credits need no row: one credit costs one dollar."""

    unit = models.OneToOneField(
        "ledger.Unit", on_delete=models.PROTECT, related_name="refill_price"
    )
    unit_price = models.BigIntegerField(help_text=_("USD cents per whole unit."))
    is_active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("refill price")
        verbose_name_plural = _("refill prices")
        constraints = [
            models.CheckConstraint(condition=Q(unit_price__gt=0), name="refill_price_positive")
        ]

    def __str__(self) -> str:
        return f"{self.unit_id}: {self.unit_price}"
