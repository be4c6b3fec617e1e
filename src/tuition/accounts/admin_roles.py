"""Staff roles for the admin: "Commerce manager" and "Viewer" (superusers see everything).

The two groups are (re)made after every `migrate` (and every test-database flush) by a
post_migrate handler connected in accounts/admin.py, so a fresh install, `tuition serve`, the
demo and the tests all have them without a separate step. Making them is idempotent: the
permissions of each group are set to exactly the list below each time.

- Commerce manager: manages credits, codes and coupons (add, change, delete, see codes), and
  views everything else in the admin.
- Viewer: views everything in the admin, changes nothing, sees codes masked.

Seeing a code in the clear is tied to the permission to change codes
(`codes.change_redemptioncode`): whoever may manage codes may read them; a view-only role may not.
"""

from typing import Any

COMMERCE_MANAGER = "Commerce manager"
VIEWER = "Viewer"

# Apps whose models staff work with in the admin.
_STAFF_APPS = (
    "accounts",
    "ledger",
    "catalog",
    "codes",
    "checkout",
    "notifications",
    "autorefills",
    "reports",
    "api",
)
_MANAGED = [("ledger", "lot"), ("codes", "redemptioncode"), ("codes", "coupon")]
CODE_PERMISSION = "codes.change_redemptioncode"


def ensure_staff_roles() -> None:
    """Create or refresh the staff groups and their permissions."""
    from django.contrib.auth.models import Group, Permission

    views = list(
        Permission.objects.filter(
            content_type__app_label__in=_STAFF_APPS, codename__startswith="view_"
        )
    )
    # Both roles may read the audit trail (who changed what); nobody changes it.
    views += list(
        Permission.objects.filter(content_type__app_label="core", codename="view_auditevent")
    )
    viewer, _ = Group.objects.get_or_create(name=VIEWER)
    viewer.permissions.set(views)
    managed = []
    for app_label, model in _MANAGED:
        managed += list(
            Permission.objects.filter(
                content_type__app_label=app_label,
                content_type__model=model,
                codename__in=[f"{verb}_{model}" for verb in ("add", "change", "delete", "view")],
            )
        )
    manager, _ = Group.objects.get_or_create(name=COMMERCE_MANAGER)
    manager.permissions.set({*views, *managed})


def on_post_migrate(sender: Any, **kwargs: Any) -> None:
    # Runs once per migrated app; only the last one (ours, after auth's permissions exist) acts.
    if getattr(sender, "label", None) != "accounts":
        return
    using = kwargs.get("using", "default")
    if using != "default":
        return
    from django.apps import apps
    from django.contrib.auth.management import create_permissions

    # Permissions of every app may not exist yet when accounts' post_migrate runs first.
    for config in apps.get_app_configs():
        create_permissions(config, verbosity=0, using=using)
    ensure_staff_roles()


def can_see_codes(user: Any) -> bool:
    """Whether the admin shows codes to this staff member in the clear."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return bool(user.is_superuser or user.has_perm(CODE_PERMISSION))


def mask_code(text: str | None, hint: str = "") -> str:
    """A code as a view-only role sees it: generated codes keep their first and last group
    (`ABCD-••••-••••-PQRS`, 40 of 80 bits hidden is still far beyond guessing under the
    attempt limits); custom codes, often short, show only their last four symbols."""
    if text and len(text) == 19 and text.count("-") == 3:
        return f"{text[:4]}-••••-••••-{text[-4:]}"
    return f"••••{hint or (text or '')[-4:]}"
