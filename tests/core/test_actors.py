"""Actor references: what they hold, how they read, and that they never hold personal data."""

import pickle

import pytest

from tests.factories import AccountFactory, MembershipFactory, UserFactory
from tuition.accounts.models import Membership
from tuition.api.keys import create_api_key
from tuition.core.actors import Actor, describe, describe_one, reason_without_actor
from tuition.core.audit import record_change
from tuition.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_a_reference_holds_ids_and_the_interface_never_a_name_or_email():
    # given
    person = UserFactory(email="cora@northwind.test", name="Cora Diaz", is_staff=True)
    # when
    actor = Actor.for_user(person, via="admin")
    # then
    assert actor == f"user:{person.pk}@admin"
    assert (actor.kind, actor.id, actor.interface, actor.user_id) == (
        "user",
        str(person.pk),
        "admin",
        person.pk,
    )
    assert "cora" not in actor and Actor.parse(str(actor)) == actor
    assert pickle.loads(pickle.dumps(actor)).interface == "admin"  # noqa: S301
    with pytest.raises(ValueError):
        Actor("user", "cora@northwind.test", "admin")
    with pytest.raises(ValueError):
        Actor("user", "1", "telepathy")


def test_references_read_as_people_keys_and_jobs():
    # given a staff member, an owner, a learner and an API key
    cora = UserFactory(name="Cora Diaz", is_staff=True)
    olga = UserFactory(name="Olga Ortiz")
    MembershipFactory(user=olga, account=AccountFactory(), role=Membership.Role.OWNER)
    lena = UserFactory(name="Lena Lund")
    key, _ = create_api_key(name="CRM", scopes=["admin"], actor=Actor.for_user(cora, via="admin"))
    # when
    shown = describe(
        [
            Actor.for_user(cora, via="admin"),
            Actor.for_user(olga, via="pages"),
            Actor.for_user(lena, via="pages"),
            Actor.for_api_key(key),
            Actor.for_job("expire_credits"),
            Actor.for_job("create_api_key", via="command"),
            "user:999999@api",
            "",
        ]
    )
    # then
    readable = {text: view.display for text, view in shown.items()}
    assert readable[f"user:{cora.pk}@admin"] == "Cora Diaz (staff) via admin"
    assert readable[f"user:{olga.pk}@pages"] == "Olga Ortiz (owner) via pages"
    assert readable[f"user:{lena.pk}@pages"] == "Lena Lund (learner) via pages"
    assert readable[f"api-key:{key.prefix}@api"] == f"API key CRM ({key.prefix[:6]}…) via API"
    assert readable["job:expire_credits@job"] == "Expire credits (job)"
    assert readable["job:create_api_key@command"] == "Create api key (job) via command line"
    assert readable["user:999999@api"] == "Former person #999999 via API"
    assert shown[""].kind == "unknown"


def test_text_from_before_references_still_reads():
    # given
    olga = UserFactory(email="olga@acme.test", name="Olga Ortiz")
    # then
    assert describe_one("user:olga@acme.test").display == "Olga Ortiz (learner)"
    assert describe_one("system:periodic").display == "Periodic (job)"
    assert reason_without_actor("deleted by user:7@admin: duplicate") == "deleted: duplicate"
    assert olga.pk


def test_an_erased_person_reads_by_their_new_name_without_touching_the_trail():
    # given a change made by a person
    person = UserFactory(email="ana@acme.test", name="Ana Alves")
    record_change(
        actor=Actor.for_user(person, via="pages"),
        verb="booked",
        object_type="checkout.booking",
        object_id=1,
    )
    event = AuditEvent.objects.get()
    # when the person's row is pseudonymised
    person.name, person.email = "Erased person", f"erased-{person.pk}@invalid"
    person.save()
    # then the audit row is unchanged and reads with the new name
    assert AuditEvent.objects.get().actor == event.actor == f"user:{person.pk}@pages"
    assert describe_one(event.actor).display == "Erased person (learner) via pages"
    assert "ana" not in " ".join(
        AuditEvent.objects.values_list("actor", "actor_id", "summary").get()
    )
