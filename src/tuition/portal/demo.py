"""Demo data that shows every feature: a provider catalog, two training accounts with owners
and members, USD credits and a token type, lots that expire at different times."""

from datetime import timedelta

from django.db import transaction

from tuition.accounts import services as accounts
from tuition.accounts.models import Membership, User
from tuition.core import clock
from tuition.ledger import services as ledger
from tuition.ledger.models import Lot, Unit

DEMO_PASSWORD = "tuition-demo"  # noqa: S105 - published demo credentials, demo data only
DEMO_LOGINS = [
    ("admin@northwind.test", "provider staff (admin)"),
    ("olga@acme.test", "owner of Acme Corp"),
    ("ana@acme.test", "member of Acme Corp (may see the balance)"),
    ("ben@acme.test", "member of Acme Corp"),
    ("gary@globex.test", "owner of Globex (members-only redemption)"),
    ("lena@learner.test", "learner without an account"),
]
ACTOR = "system:demo"


def load_demo() -> bool:
    """Load the demo once; returns False when it is already there."""
    if User.objects.filter(email="admin@northwind.test").exists():
        return False
    with transaction.atomic():
        _people()
        _ledger()
    return True


def _people() -> None:
    admin = User.objects.create_superuser(email="admin@northwind.test", password=DEMO_PASSWORD)
    admin.name = "Nora Admin"
    admin.save(update_fields=["name"])
    for email, name in [("olga@acme.test", "Olga Owner"), ("ana@acme.test", "Ana Alvarez"),
                        ("ben@acme.test", "Ben Brown"), ("gary@globex.test", "Gary Globex"),
                        ("lena@learner.test", "Lena Learner")]:
        User.objects.create_user(email=email, password=DEMO_PASSWORD, name=name)


def _ledger() -> None:
    now = clock.now()
    usd = Unit.objects.get(code="USD")
    tokens, _ = Unit.objects.get_or_create(
        code="TT", defaults={"name": "Training Token", "decimals": 0, "expiry_days": 365}
    )
    acme = accounts.create_account(name="Acme Corp", external_id="crm-42",
                                   owners=["olga@acme.test"], actor=ACTOR)
    accounts.add_member(account=acme, email="ana@acme.test", can_view_balance=True, notify=True,
                        actor=ACTOR)
    accounts.add_member(account=acme, email="ben@acme.test", actor=ACTOR)
    globex = accounts.create_account(name="Globex", external_id="crm-77",
                                     owners=["gary@globex.test"],
                                     redeemer_policy="members", actor=ACTOR)
    accounts.add_member(account=globex, email="ben@acme.test", role=Membership.Role.MEMBER,
                        actor=ACTOR)

    def issue(account, unit, value, days, **extra):
        return ledger.issue_credit(
            account_id=account.pk, unit=unit, redeemable_value=value, actor=ACTOR,
            expires_at=None if days is None else now + timedelta(days=days), **extra)

    issue(acme, usd, 50000, 20, purchase_price=45000, notes="Q3 deal: expires soon",
          external_id="pi_demo_1")
    issue(acme, usd, 100000, 340, purchase_price=100000, source=Lot.Source.PURCHASE,
          notes="Refill")
    issue(acme, usd, 25000, None, notes="Goodwill credit, no expiry")
    issue(acme, tokens, 12, 180, notes="Token bundle")
    issue(globex, usd, 30000, 90, purchase_price=27000, external_id="pi_demo_2")
    issue(globex, tokens, 5, 6, notes="Tokens expiring this week")
