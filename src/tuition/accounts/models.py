"""People and training accounts: who holds value, who may spend it, who manages it."""

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **fields: object) -> "User":
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **fields: object) -> "User":
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create(email, password, **fields)

    def create_superuser(self, email: str, password: str | None = None, **fields: object) -> "User":
        fields.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **fields)


class User(AbstractUser):
    """Everyone signs in with an email address; learners are identified by it."""

    username = None  # type: ignore[assignment]
    email = models.EmailField("email address", unique=True)
    name = models.CharField(max_length=200, blank=True)
    # What this person reads pages, emails and documents in ("" follows the browser), and the
    # time zone of their own notifications ("" is the provider's).
    language = models.CharField(_("language"), max_length=10, blank=True, default="")
    timezone = models.CharField(_("time zone"), max_length=64, blank=True, default="")

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()  # type: ignore[misc]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self) -> str:
        return self.email

    @property
    def display_name(self) -> str:
        return self.name or self.get_full_name() or self.email


class TrainingAccount(models.Model):
    """An organization's wallet (or one person's, when a credit is given to them directly)."""

    class RedeemerPolicy(models.TextChoices):
        ANYONE = "anyone", _("Anyone with the code")
        MEMBERS = "members", _("Members of the account only")

    name = models.CharField(max_length=200)
    external_id = models.CharField(max_length=200, null=True, blank=True, unique=True)
    redeemer_policy = models.CharField(
        max_length=16, choices=RedeemerPolicy.choices, default=RedeemerPolicy.ANYONE
    )
    is_personal = models.BooleanField(
        default=False, help_text=_("Made for one person who was given a credit directly.")
    )
    low_balance_threshold = models.JSONField(
        default=dict,
        blank=True,
        help_text='Alert owners when the usable balance falls below, per unit: {"USD": "100.00"}.',
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("training account")
        verbose_name_plural = _("training accounts")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        MEMBER = "member", _("Member")

    account = models.ForeignKey(
        TrainingAccount, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    can_view_balance = models.BooleanField(default=False)
    notify = models.BooleanField(
        default=False, help_text=_("Members who opt in receive the account's notifications.")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["account", "user"], name="membership_unique_user")
        ]
        ordering = ["account_id", "role", "id"]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) in {self.account}"

    @property
    def is_owner(self) -> bool:
        return self.role == self.Role.OWNER
