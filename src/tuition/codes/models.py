"""Redemption codes and coupons, in one code space.

A code's text is never stored in the clear: `digest` is a keyed HMAC of the normalized code
(for lookup, unique across codes AND coupons), `sealed` an authenticated encryption of it for
the people allowed to see it (staff, the account's owners), and `hint` its last four symbols
for lists. See docs/decisions/0005-code-storage.md.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class ScopeKind(models.TextChoices):
    ACTIVITY = "activity", _("Activities")
    GROUP = "group", _("Groups")
    ANY = "any", _("Activities and groups")  # coupons only


class RedemptionCode(models.Model):
    """What a learner types at checkout.

    kind `lot`: pays from one lot. `pool`: pays from an account's lots in one unit. `member`: a
    pool code that only one member may use, with an optional cap on what it spends (`spent`
    is its running total, guarded like a lot's balance). `coupon`: the code of a Coupon.
    """

    class Kind(models.TextChoices):
        LOT = "lot", _("One credit")
        POOL = "pool", _("Account pool")
        MEMBER = "member", _("Per-member code")
        COUPON = "coupon", _("Coupon")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        INACTIVE = "inactive", _("Inactive")

    digest = models.CharField(max_length=64, unique=True, editable=False)
    sealed = models.TextField(editable=False)
    hint = models.CharField(max_length=8, editable=False)
    is_custom = models.BooleanField(default=False, editable=False)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    lot = models.OneToOneField(
        "ledger.Lot", null=True, blank=True, on_delete=models.PROTECT, related_name="code"
    )
    account = models.ForeignKey(
        "accounts.TrainingAccount",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="codes",
    )
    unit = models.ForeignKey(
        "ledger.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="member_codes",
    )
    cap = models.BigIntegerField(
        null=True, blank=True, help_text=_("Most it may spend, minor units.")
    )
    spent = models.BigIntegerField(default=0, editable=False)
    coupon = models.OneToOneField(
        "codes.Coupon", null=True, blank=True, on_delete=models.PROTECT, related_name="code"
    )
    label = models.CharField(max_length=200, blank=True, default="")
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=200, blank=True, default="")
    history = HistoricalRecords(excluded_fields=["spent", "sealed", "digest"])

    class Meta:
        verbose_name = _("redemption code")
        verbose_name_plural = _("redemption codes")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="lot") & Q(lot__isnull=False) & Q(coupon__isnull=True))
                | (
                    Q(kind="pool")
                    & Q(account__isnull=False)
                    & Q(unit__isnull=False)
                    & Q(lot__isnull=True)
                    & Q(coupon__isnull=True)
                )
                | (
                    Q(kind="member")
                    & Q(account__isnull=False)
                    & Q(unit__isnull=False)
                    & Q(member__isnull=False)
                    & Q(lot__isnull=True)
                    & Q(coupon__isnull=True)
                )
                | (
                    Q(kind="coupon")
                    & Q(coupon__isnull=False)
                    & Q(lot__isnull=True)
                    & Q(account__isnull=True)
                ),
                name="code_kind_target",
            ),
            models.CheckConstraint(condition=Q(spent__gte=0), name="code_spent_not_negative"),
            models.CheckConstraint(
                condition=Q(cap__isnull=True) | Q(spent__lte=models.F("cap")),
                name="code_spent_within_cap",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} …{self.hint}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class Coupon(models.Model):
    """A discount on the card price: a percentage (basis points) or a fixed USD amount."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        INACTIVE = "inactive", _("Inactive")

    name = models.CharField(max_length=200)
    percent_off_bp = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("Discount in basis points: 1000 = 10 %, 10000 = free.")
    )
    amount_off = models.BigIntegerField(null=True, blank=True, help_text=_("USD cents off."))
    scope_kind = models.CharField(max_length=16, choices=ScopeKind.choices, default=ScopeKind.ANY)
    scope_all = models.BooleanField(default=True)
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    max_uses = models.PositiveIntegerField(null=True, blank=True)
    uses = models.PositiveIntegerField(default=0, editable=False)
    once_per_learner = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    notes = models.TextField(blank=True, default="")
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=200, blank=True, default="")
    history = HistoricalRecords(excluded_fields=["uses"])

    class Meta:
        verbose_name = _("coupon")
        verbose_name_plural = _("coupons")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(percent_off_bp__isnull=False)
                    & Q(amount_off__isnull=True)
                    & Q(percent_off_bp__gt=0)
                    & Q(percent_off_bp__lte=10000)
                )
                | (
                    Q(percent_off_bp__isnull=True)
                    & Q(amount_off__isnull=False)
                    & Q(amount_off__gt=0)
                ),
                name="coupon_one_discount",
            ),
            models.CheckConstraint(
                condition=Q(max_uses__isnull=True) | Q(uses__lte=models.F("max_uses")),
                name="coupon_uses_within_max",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CouponScopeItem(models.Model):
    coupon = models.ForeignKey(Coupon, on_delete=models.CASCADE, related_name="scope_items")
    item_kind = models.CharField(max_length=16)
    item_id = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["coupon", "item_kind", "item_id"], name="coupon_scope_item_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.item_kind}:{self.item_id}"


class CouponUse(models.Model):
    """One use of a coupon. `once_key` is set for once-per-learner coupons, so the database
    itself refuses a second use by the same learner."""

    coupon = models.ForeignKey(Coupon, on_delete=models.PROTECT, related_name="use_records")
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    order_id = models.BigIntegerField(null=True, blank=True)
    once_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.coupon_id} by {self.learner_id}"


class AttemptCounter(models.Model):
    """Failed code look-ups in the current window for one learner or client IP address.

    Changed only with single conditional UPDATE / INSERT statements, so concurrent failures are
    all counted. See tuition.codes.limiter.
    """

    class Scope(models.TextChoices):
        LEARNER = "learner"
        IP = "ip", _("IP address")

    scope = models.CharField(max_length=16, choices=Scope.choices)
    key = models.CharField(max_length=128)
    failures = models.PositiveIntegerField(default=0)
    window_started_at = models.DateTimeField()
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="attempt_counter_unique")
        ]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}={self.failures}"
