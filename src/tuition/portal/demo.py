"""Demo data that shows every feature: a provider catalog, two training accounts with owners
and members, USD credits and a token type, lots that expire at different times."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

from tuition.accounts import services as accounts
from tuition.accounts.models import Membership, User
from tuition.checkout.payments import SUCCESS_CARD
from tuition.core import clock
from tuition.core.actors import ADMIN, API, COMMAND, PAGES, Actor
from tuition.core.transactions import composing
from tuition.ledger import services as ledger
from tuition.ledger.models import Lot, Unit
from tuition.privacy.services import forget_person

DEMO_PASSWORD = "tuition-demo"  # noqa: S105 - published demo credentials, demo data only
DEMO_LOGINS = [
    ("admin@northwind.test", "provider staff (admin)"),
    ("cora@northwind.test", "staff: commerce manager (credits, codes, coupons)"),
    ("vic@northwind.test", "staff: viewer (read-only admin, codes masked)"),
    ("greta@northwind.test", "staff: commerce manager who reads German"),
    ("olga@acme.test", "owner of Acme Corp"),
    ("ana@acme.test", "member of Acme Corp (may see the balance)"),
    ("ben@acme.test", "member of Acme Corp"),
    ("gary@globex.test", "owner of Globex (members-only redemption)"),
    ("lena@learner.test", "learner without an account"),
]
ACTOR = Actor.for_job("load_demo_data", via=COMMAND)


def load_demo() -> bool:
    """Load the demo once; returns False when it is already there."""
    if User.objects.filter(email="admin@northwind.test").exists():
        return False
    with composing():  # all of the demo or none of it
        _people()
        _ledger()
        _commerce()
        _automatic_refills()
    return True


def _automatic_refills() -> None:
    """Acme refills by card when its USD balance falls below 500.00; Globex gets a monthly
    allowance by invoice, set last month, that has bought this month's refill."""
    from tuition.accounts.models import TrainingAccount
    from tuition.autorefills import services as autorefills
    from tuition.autorefills.models import RefillRule

    usd = Unit.objects.get(code=Unit.USD)
    acme = TrainingAccount.objects.get(external_id="crm-42")
    globex = TrainingAccount.objects.get(external_id="crm-77")
    autorefills.set_rule(
        account_id=acme.pk,
        unit=usd,
        rule=autorefills.RuleInput(
            kind="threshold",
            threshold=50000,
            amount=100000,
            provider="sandbox",
            card_number=SUCCESS_CARD,
        ),
        buyer=User.objects.get(email="olga@acme.test"),
        actor=Actor.for_user(User.objects.get(email="olga@acme.test"), via=PAGES),
    )
    allowance = autorefills.set_rule(
        account_id=globex.pk,
        unit=usd,
        rule=autorefills.RuleInput(kind="allowance", amount=20000, provider="invoice"),
        buyer=User.objects.get(email="gary@globex.test"),
        actor=Actor.for_user(User.objects.get(email="gary@globex.test"), via=PAGES),
    )
    set_last_month = autorefills.month_start(clock.now()) - timedelta(days=3)
    RefillRule.objects.filter(pk=allowance.pk).update(created_at=set_last_month)
    autorefills.fire_rule(rule_id=allowance.pk)


def _people() -> None:
    admin = User.objects.create_superuser(email="admin@northwind.test", password=DEMO_PASSWORD)
    admin.name = "Nora Admin"
    admin.save(update_fields=["name"])
    for email, name in [
        ("olga@acme.test", "Olga Owner"),
        ("ana@acme.test", "Ana Alvarez"),
        ("ben@acme.test", "Ben Brown"),
        ("gary@globex.test", "Gary Globex"),
        ("lena@learner.test", "Lena Learner"),
    ]:
        User.objects.create_user(email=email, password=DEMO_PASSWORD, name=name)
    _staff_roles()


def _staff_roles() -> None:
    from django.contrib.auth.models import Group

    from tuition.accounts.admin_roles import COMMERCE_MANAGER, VIEWER, ensure_staff_roles

    ensure_staff_roles()
    for email, name, role, language in [
        ("cora@northwind.test", "Cora Commerce", COMMERCE_MANAGER, ""),
        ("vic@northwind.test", "Vic Viewer", VIEWER, ""),
        ("greta@northwind.test", "Greta Graf", COMMERCE_MANAGER, "de"),  # the staff area in German
    ]:
        user = User.objects.create_user(
            email=email, password=DEMO_PASSWORD, name=name, is_staff=True, language=language
        )
        user.groups.add(Group.objects.get(name=role))


def _ledger() -> None:
    now = clock.now()
    usd = Unit.objects.get(code="USD")
    tokens = Unit.objects.filter(code="TT").first() or ledger.create_token_type(
        code="TT", name="Training Token", decimals=0, expiry_days=365, actor=ACTOR
    )
    acme = accounts.create_account(
        name="Acme Corp", external_id="crm-42", owners=["olga@acme.test"], actor=ACTOR
    )
    accounts.add_member(
        account=acme, email="ana@acme.test", can_view_balance=True, notify=True, actor=ACTOR
    )
    accounts.add_member(account=acme, email="ben@acme.test", actor=ACTOR)
    globex = accounts.create_account(
        name="Globex",
        external_id="crm-77",
        owners=["gary@globex.test"],
        redeemer_policy="members",
        actor=ACTOR,
    )
    accounts.add_member(
        account=globex, email="ben@acme.test", role=Membership.Role.MEMBER, actor=ACTOR
    )

    def issue(account, unit, value, days, **extra):
        return ledger.issue_credit(
            account_id=account.pk,
            unit=unit,
            redeemable_value=value,
            actor=ACTOR,
            expires_at=None if days is None else now + timedelta(days=days),
            **extra,
        )

    issue(
        acme,
        usd,
        50000,
        20,
        purchase_price=45000,
        notes="Q3 deal: expires soon",
        external_id="pi_demo_1",
    )
    issue(acme, usd, 100000, 340, purchase_price=100000, source=Lot.Source.PURCHASE, notes="Refill")
    issue(acme, usd, 25000, None, notes="Goodwill credit, no expiry")
    issue(acme, tokens, 12, 180, notes="Token bundle")
    issue(globex, usd, 30000, 90, purchase_price=27000, external_id="pi_demo_2")
    issue(globex, tokens, 5, 6, notes="Tokens expiring this week")


def _local_morning(moment: datetime, zone: str) -> datetime:
    """09:00 on that day where the session takes place (sessions keep their own zone)."""
    return datetime.combine(moment.date(), time(9), tzinfo=ZoneInfo(zone))


# --- catalog, codes and checkout ---------------------------------------------------------------

# Codes a visitor can type at checkout (custom codes, so the demo prints the same ones each time).
DEMO_CODES = [
    ("ACME-TEAM-USD", "Acme Corp pool code, USD credits (anyone with the code)"),
    ("ACME-TOKENS", "Acme Corp pool code, Training Tokens"),
    ("BEN-ACME-CAP", "ben@acme.test's own code on Acme, capped at 300.00"),
    ("GLOBEX-USD", "Globex pool code, members only (lena@learner.test is refused)"),
    ("SPRING10", "coupon: 10 % off the card price"),
]


def _commerce() -> None:
    from tuition.accounts.models import TrainingAccount
    from tuition.catalog import services as catalog
    from tuition.checkout import approvals
    from tuition.checkout import services as checkout
    from tuition.codes import services as codes

    now = clock.now()
    usd = Unit.objects.get(code="USD")
    tokens = Unit.objects.get(code="TT")
    acme = TrainingAccount.objects.get(external_id="crm-42")
    globex = TrainingAccount.objects.get(external_id="crm-77")
    catalog.set_refill_price(unit=tokens, unit_price=9900, actor=ACTOR)

    cloud = catalog.create_activity(
        title="Cloud Fundamentals",
        price=30000,
        token_prices={tokens: 3},
        refund_window_days=14,
        actor=ACTOR,
        description="One day, instructor-led: compute, storage, networking, identity.",
    )
    day = _local_morning(now + timedelta(days=10), "Europe/Berlin")
    catalog.create_session(
        activity_id=cloud.pk,
        starts_at=day,
        ends_at=day + timedelta(hours=8),
        timezone="Europe/Berlin",
        location="Berlin, Room 2",
        capacity=12,
        actor=ACTOR,
    )
    later = day + timedelta(days=30)
    nearly_full = catalog.create_session(
        activity_id=cloud.pk,
        starts_at=later,
        ends_at=later + timedelta(hours=8),
        timezone="Europe/Berlin",
        location="Online",
        capacity=3,
        actor=ACTOR,
    )
    security = catalog.create_activity(
        title="Security Essentials",
        price=45000,
        token_prices={tokens: 4},
        refund_window_days=7,
        actor=ACTOR,
        description="Self-paced, about 12 hours.",
    )
    certification = catalog.create_activity(
        title="Data Analytics Certification",
        kind="certification",
        price=60000,
        token_prices={tokens: 6},
        learner_can_cancel=False,
        actor=ACTOR,
        description="Exam voucher and practice tests.",
    )
    summit = catalog.create_activity(
        title="Leadership Summit",
        kind="event",
        price=20000,
        actor=ACTOR,
        description="One day, in person.",
    )
    summit_day = _local_morning(now + timedelta(days=60), "America/New_York")
    catalog.create_session(
        activity_id=summit.pk,
        starts_at=summit_day,
        ends_at=summit_day + timedelta(hours=7),
        timezone="America/New_York",
        location="New York",
        capacity=200,
        actor=ACTOR,
    )
    catalog.create_group(
        title="Cloud Path",
        price=65000,
        token_prices={tokens: 6},
        activity_ids=[cloud.pk, security.pk],
        refund_window_days=14,
        actor=ACTOR,
        description="Cloud Fundamentals + Security Essentials.",
    )

    # Every demo lot gets its own (generated) code; the accounts get pool and member codes.
    for lot in Lot.objects.filter(account__in=[acme, globex]).order_by("pk"):
        codes.attach_lot_code(lot_id=lot.pk, actor=ACTOR)
    codes.create_pool_code(
        account_id=acme.pk, unit=usd, code="ACME-TEAM-USD", actor=ACTOR, label="Acme team"
    )
    codes.create_pool_code(account_id=acme.pk, unit=tokens, code="ACME-TOKENS", actor=ACTOR)
    codes.create_member_code(
        account_id=acme.pk,
        unit=usd,
        member_email="ben@acme.test",
        cap=30000,
        code="BEN-ACME-CAP",
        actor=ACTOR,
    )
    codes.create_pool_code(account_id=globex.pk, unit=usd, code="GLOBEX-USD", actor=ACTOR)
    spring = codes.create_coupon(
        name="Spring sale",
        percent_off_bp=1000,
        code="SPRING10",
        valid_until=now + timedelta(days=90),
        actor=ACTOR,
    )
    # The audit trail shows people and integrations at work: Cora edits the coupon in the
    # admin, an integration key is made and used, and learners check out on the pages.
    cora = User.objects.get(email="cora@northwind.test")
    codes.update_coupon(
        coupon_id=spring.coupon.pk,
        notes="Printed on the spring flyer.",
        max_uses=500,
        actor=Actor.for_user(cora, via=ADMIN),
    )
    from tuition.api.keys import create_api_key

    admin = User.objects.get(email="admin@northwind.test")
    crm, _plaintext = create_api_key(
        name="CRM", scopes=["credits:read", "credits:write"], actor=Actor.for_user(admin, via=ADMIN)
    )
    accounts.update_account(
        account_id=globex.pk, name="Globex Inc.", actor=Actor.for_api_key(crm, via=API)
    )

    def on_pages(email: str) -> Actor:
        return Actor.for_user(User.objects.get(email=email), via=PAGES)

    _past_usage(acme, usd, security=security.pk, certification=certification.pk)

    # Two of the three seats of the later online session are taken: one by code, one by card.
    checkout.checkout(
        learner_email="ana@acme.test",
        activity_id=cloud.pk,
        session_id=nearly_full.pk,
        payment=checkout.PaymentChoice(method="code", code="ACME-TEAM-USD"),
        actor=on_pages("ana@acme.test"),
    )
    checkout.checkout(
        learner_email="lena@learner.test",
        activity_id=cloud.pk,
        session_id=nearly_full.pk,
        payment=checkout.PaymentChoice(method="card", coupon="SPRING10", card_number=SUCCESS_CARD),
        actor=on_pages("lena@learner.test"),
    )
    checkout.checkout(
        learner_email="ben@acme.test",
        activity_id=security.pk,
        payment=checkout.PaymentChoice(method="code", code="ACME-TOKENS"),
        actor=on_pages("ben@acme.test"),
    )
    # A former learner who asked to be forgotten: Acme's transactions still show the purchase,
    # under the pseudonym they are now (Staff → Users → "Forget this person").
    checkout.checkout(
        learner_email="max@acme.test",
        learner_name="Max Former",
        activity_id=security.pk,
        payment=checkout.PaymentChoice(method="code", code="ACME-TEAM-USD"),
        actor=ACTOR,
    )
    forget_person(email="max@acme.test", actor=ACTOR)
    # Acme's owner approves redemptions above 400.00 and every certification; one waits for her.
    approvals.set_rules(
        account_id=acme.pk,
        above={usd.code: 40000},
        items=[approvals.item_key("activity", certification.pk)],
        hold_hours=72,
        actor=ACTOR,
    )
    checkout.checkout(
        learner_email="ben@acme.test",
        activity_id=certification.pk,
        payment=checkout.PaymentChoice(method="code", code="ACME-TEAM-USD"),
        actor=ACTOR,
    )
    # Issued after this month's purchases, more than the recent rate will use before it
    # expires: the owner's forecast shows what will expire unused, and when.
    ledger.issue_credit(
        account_id=acme.pk,
        unit=usd,
        redeemable_value=120000,
        actor=ACTOR,
        expires_at=clock.now() + timedelta(days=25),
        notes="Workshop credit: use it this month",
    )
    # A new colleague asked for Security Essentials (above 400.00), and Olga declined: his
    # email says so, and that nothing was charged.
    asked = checkout.checkout(
        learner_email="cy@acme.test",
        learner_name="Cy Newman",
        activity_id=security.pk,
        payment=checkout.PaymentChoice(method="code", code="ACME-TEAM-USD"),
        actor=ACTOR,
    )
    approvals.decline(hold_id=asked.hold.pk, actor=on_pages("olga@acme.test"))


@contextmanager
def _as_of(moment: datetime) -> Iterator[None]:
    """Run services as if at `moment` (the demo's history happened before today)."""
    with mock.patch.object(clock, "now", lambda: moment):
        yield


def _past_usage(acme, usd, *, security: int, certification: int) -> None:  # type: ignore[no-untyped-def]
    """Three months of Acme's USD use, paid from a bundle bought 100 days ago, one of them
    refunded in part: what the owner's forecast projects forward."""
    from tuition.checkout import services as checkout
    from tuition.checkout.refunds import refund_part
    from tuition.codes import services as codes

    now = clock.now()
    with _as_of(now - timedelta(days=100)):
        bundle = ledger.issue_credit(
            account_id=acme.pk,
            unit=usd,
            redeemable_value=210000,
            purchase_price=200000,
            expires_at=now + timedelta(days=265),
            notes="Q2 bundle, used over the last months",
            actor=ACTOR,
        )
        codes.attach_lot_code(lot_id=bundle.pk, code="ACME-Q2-BUNDLE", actor=ACTOR)
    orders = {}
    for days_ago, email, activity in [
        (80, "olga@acme.test", security),
        (55, "olga@acme.test", certification),
        (30, "ana@acme.test", certification),
        (12, "ana@acme.test", security),
    ]:
        with _as_of(now - timedelta(days=days_ago, hours=-3)):
            orders[days_ago] = checkout.checkout(
                learner_email=email,
                activity_id=activity,
                payment=checkout.PaymentChoice(method="code", code="ACME-Q2-BUNDLE"),
                actor=ACTOR,
            ).order
    with _as_of(now - timedelta(days=25)):
        refund_part(
            order_id=orders[30].pk,
            amount=10000,
            reason="Exam fee reduced after booking",
            actor=Actor.for_user(User.objects.get(email="admin@northwind.test"), via=ADMIN),
        )
