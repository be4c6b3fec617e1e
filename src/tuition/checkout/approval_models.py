"""An account's approval rules (SPEC §7): which redemptions wait for an owner's approval."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

MIN_HOLD_HOURS = 1
MAX_HOLD_HOURS = 24 * 30


class ApprovalPolicy(models.Model):
    """Redemptions of this account's credits above an amount (per unit), or of chosen catalog
    items, wait for an owner's approval; undecided ones are released after `hold_hours`."""

    account = models.OneToOneField(
        "accounts.TrainingAccount", on_delete=models.CASCADE, related_name="approval_policy"
    )
    # Unit code -> amount in that unit's minor unit: redemptions charging more need approval.
    above = models.JSONField(default=dict, blank=True)
    # Catalog items whose redemption always needs approval: "activity:<id>" / "group:<id>".
    items = models.JSONField(default=list, blank=True)
    hold_hours = models.PositiveIntegerField(default=72)
    updated_at = models.DateTimeField()
    updated_by = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        verbose_name = _("approval rules")
        verbose_name_plural = _("approval rules")
        constraints = [
            models.CheckConstraint(
                condition=Q(hold_hours__gte=MIN_HOLD_HOURS, hold_hours__lte=MAX_HOLD_HOURS),
                name="approval_hold_hours_in_range",
            )
        ]

    def __str__(self) -> str:
        return f"Approval rules of {self.account_id}"

    @property
    def is_empty(self) -> bool:
        return not self.above and not self.items
