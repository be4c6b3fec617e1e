"""The ledger: units, lots of value and the append-only transfers that move it.

Every movement of value is one Transfer whose Entries sum to zero across lot accounts and the
system accounts. A lot's `remaining` is a running balance kept equal to the sum of its entries by
the services (and checked by `tuition verify`), so balances never sum the history.

The ledger imports no other app: accounts are referenced by model label only, and a lot's scope
stores plain catalog ids.
"""

from datetime import datetime

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from tuition.core.amounts import format_amount


def expired(expires_at: datetime | None, at: datetime) -> bool:
    """Whether a lot expiring at `expires_at` (None: never) has expired at `at`."""
    return expires_at is not None and expires_at <= at


class Unit(models.Model):
    """What a balance is counted in: USD credits (built in) or a token type."""

    code = models.CharField(max_length=16, unique=True)
    name = models.CharField(max_length=100)
    decimals = models.PositiveSmallIntegerField(default=0)
    expiry_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        default=365,
        help_text=_(
            "Refills and API-issued credits expire this many days after issue; empty = never."
        ),
    )
    is_builtin = models.BooleanField(default=False, editable=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    USD = "USD"

    class Meta:
        verbose_name = _("token type")
        verbose_name_plural = _("token types")
        ordering = ["-is_builtin", "code"]
        constraints = [
            models.CheckConstraint(condition=Q(decimals__lte=6), name="unit_decimals_at_most_6")
        ]

    def __str__(self) -> str:
        return self.code

    def format(self, minor: int) -> str:
        return format_amount(minor, decimals=self.decimals)


class Wallet(models.Model):
    """The row every value movement of one account in one unit locks first.

    Serializing on one narrow row keeps the lock window short and makes the soonest-expiring
    allocation see a stable set of lots; lots themselves are then updated with guarded writes.
    """

    account = models.ForeignKey("accounts.TrainingAccount", on_delete=models.PROTECT)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "unit"], name="wallet_unique_account_unit")
        ]

    def __str__(self) -> str:
        return f"{self.account_id}/{self.unit_id}"


class Lot(models.Model):
    """One issue of value into an account (a training credit, a token issue, a refill)."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        INACTIVE = "inactive", _("Inactive")

    class ScopeKind(models.TextChoices):
        ACTIVITY = "activity", _("Activities")
        GROUP = "group", _("Groups")

    class Source(models.TextChoices):
        ADMIN = "admin", _("Admin")
        PURCHASE = "purchase", _("Purchase")
        API = "api", _("API")

    account = models.ForeignKey(
        "accounts.TrainingAccount", on_delete=models.PROTECT, related_name="lots"
    )
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="lots")
    redeemable_value = models.BigIntegerField(help_text=_("In the unit's minor unit."))
    remaining = models.BigIntegerField(editable=False)
    purchase_price = models.BigIntegerField(
        null=True, blank=True, help_text=_("USD cents paid for this lot.")
    )
    external_id = models.CharField(max_length=200, blank=True, default="", db_index=True)
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)
    notes = models.TextField(blank=True, default="")
    scope_kind = models.CharField(
        max_length=16, choices=ScopeKind.choices, default=ScopeKind.ACTIVITY
    )
    scope_all = models.BooleanField(default=True)
    # The chosen items (sorted ids) as the change history records them (rule 4: old -> new
    # lists); `scope_items` rows are what checkout matches against, written with it.
    scope_item_list = models.JSONField(default=list, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.ADMIN)
    created_at = models.DateTimeField(db_index=True)
    created_by = models.CharField(max_length=200, blank=True, default="")

    history = HistoricalRecords(excluded_fields=["remaining"])

    class Meta:
        verbose_name = _("training credit")
        verbose_name_plural = _("training credits")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(remaining__gte=0), name="lot_remaining_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(redeemable_value__gt=0), name="lot_redeemable_value_positive"
            ),
            models.CheckConstraint(
                condition=Q(purchase_price__isnull=True) | Q(purchase_price__gte=0),
                name="lot_purchase_price_not_negative",
            ),
        ]
        indexes = [
            models.Index(
                fields=["account", "unit", "expires_at", "created_at", "id"],
                name="lot_allocation_order",
                condition=Q(remaining__gt=0),
            ),
        ]

    def __str__(self) -> str:
        return f"Training credit {self.pk}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def is_expired_at(self, moment) -> bool:  # type: ignore[no-untyped-def]
        return expired(self.expires_at, moment)

    def scope_item_ids(self) -> list[int]:
        return list(self.scope_items.values_list("item_id", flat=True))


class LotScopeItem(models.Model):
    """One catalog item (activity or group id, per the lot's scope kind) a lot may pay for."""

    lot = models.ForeignKey(Lot, on_delete=models.CASCADE, related_name="scope_items")
    item_id = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["lot", "item_id"], name="lot_scope_item_unique")
        ]

    def __str__(self) -> str:
        return f"{self.lot_id} -> {self.item_id}"


class SystemAccount(models.TextChoices):
    """The other side of every lot movement."""

    ISSUANCE = "issuance", _("Issuance")
    REDEMPTIONS = "redemptions", _("Redemptions")
    BREAKAGE = "breakage", _("Breakage (expired)")
    ADJUSTMENTS = "adjustments", _("Adjustments")
    VOIDS = "voids", _("Voids (deleted credits)")
    HOLDS = "holds", _("Holds (awaiting approval)")


class Transfer(models.Model):
    """One movement of value. Never edited or deleted: a correction is another transfer."""

    class Kind(models.TextChoices):
        ISSUE = "issue", _("Issue")
        REDEEM = "redeem", _("Redeem")
        REVERSE = "reverse", _("Reverse")
        EXPIRE = "expire", _("Expire")
        ADJUST = "adjust", _("Adjust")
        VOID = "void", _("Void")
        HOLD = "hold", _("Hold")
        RELEASE = "release", _("Release")

    kind = models.CharField(max_length=16, choices=Kind.choices)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey(
        "accounts.TrainingAccount", on_delete=models.PROTECT, related_name="transfers"
    )
    amount = models.BigIntegerField(help_text=_("Value moved, in minor units, always positive."))
    created_at = models.DateTimeField(db_index=True)
    actor = models.CharField(max_length=200)
    reason = models.CharField(max_length=500, blank=True, default="")
    reverses = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversals"
    )
    # Makes "at most once" facts hold in the database itself: one expiry per lot sweep, one
    # reversal per transfer, one void per lot.
    unique_key = models.CharField(max_length=120, null=True, blank=True, unique=True)
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("ledger transfer")
        verbose_name_plural = _("ledger transfers")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["account", "created_at"], name="transfer_account_time")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="transfer_amount_positive")
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"

    save_only_guards_updates = True  # core.reused_queries.insert may insert it without save()

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.pk is not None and not self._state.adding:
            raise RuntimeError("Ledger transfers are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("Ledger transfers are append-only.")


class Entry(models.Model):
    """One leg of a transfer: a signed amount on a lot or on a system account."""

    transfer = models.ForeignKey(Transfer, on_delete=models.PROTECT, related_name="entries")
    lot = models.ForeignKey(
        Lot, null=True, blank=True, on_delete=models.PROTECT, related_name="entries"
    )
    system_account = models.CharField(
        max_length=16, choices=SystemAccount.choices, null=True, blank=True
    )
    amount = models.BigIntegerField()

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(lot__isnull=False) & Q(system_account__isnull=True))
                | (Q(lot__isnull=True) & Q(system_account__isnull=False)),
                name="entry_on_lot_or_system_account",
            ),
            models.CheckConstraint(condition=~Q(amount=0), name="entry_amount_not_zero"),
        ]

    def __str__(self) -> str:
        return f"{self.lot_id or self.system_account}: {self.amount}"

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.pk is not None and not self._state.adding:
            raise RuntimeError("Ledger entries are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("Ledger entries are append-only.")


class Hold(models.Model):
    """Value reserved for one redemption that waits for an account owner's approval.

    Placing it moves the value out of its lots into the `holds` system account (a `hold`
    transfer), so nobody else can spend it while it stays the account's. It ends exactly once:
    captured (a `release` back into the same lots, then a normal `redeem` from them, in one
    transaction), released by a decline, or expired when undecided past `expires_at`.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting approval")
        CAPTURED = "captured", _("Approved")
        RELEASED = "released", _("Declined")
        EXPIRED = "expired", _("Expired")

    account = models.ForeignKey(
        "accounts.TrainingAccount", on_delete=models.PROTECT, related_name="holds"
    )
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+")
    amount = models.BigIntegerField(help_text="In the unit's minor unit.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(db_index=True)
    expires_at = models.DateTimeField(db_index=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    actor = models.CharField(max_length=200)
    ended_by = models.CharField(max_length=200, blank=True, default="")
    hold_transfer = models.OneToOneField(
        Transfer, on_delete=models.PROTECT, related_name="placed_hold"
    )
    release_transfer = models.OneToOneField(
        Transfer, null=True, blank=True, on_delete=models.PROTECT, related_name="released_hold"
    )
    capture_transfer = models.OneToOneField(
        Transfer, null=True, blank=True, on_delete=models.PROTECT, related_name="captured_hold"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["expires_at", "id"],
                name="hold_pending_expiry",
                condition=Q(status="pending"),
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="hold_amount_positive"),
            models.CheckConstraint(
                condition=(Q(status="pending") & Q(release_transfer__isnull=True))
                | (~Q(status="pending") & Q(release_transfer__isnull=False)),
                name="hold_released_once_when_ended",
            ),
            models.CheckConstraint(
                condition=Q(status="captured", capture_transfer__isnull=False)
                | (~Q(status="captured") & Q(capture_transfer__isnull=True)),
                name="hold_captured_has_redemption",
            ),
        ]

    def __str__(self) -> str:
        return f"Hold {self.pk}"

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING


class HoldPart(models.Model):
    """What one hold reserved from one lot (given back to that same lot when it ends)."""

    hold = models.ForeignKey(Hold, on_delete=models.PROTECT, related_name="parts")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="hold_parts")
    amount = models.BigIntegerField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="hold_part_amount_positive"),
            models.UniqueConstraint(fields=["hold", "lot"], name="hold_part_one_per_lot"),
        ]

    def __str__(self) -> str:
        return f"{self.hold_id}/{self.lot_id}: {self.amount}"
