"""Changes made on the owner and learner pages name the person, via pages."""

from django.urls import reverse

from tuition.accounts.models import Membership
from tuition.core.actors import describe_one
from tuition.core.models import AuditEvent


def test_an_owner_adding_a_member_on_the_pages_is_named_in_the_trail(team, login):
    # given
    owner = team["owner"]
    client = login(owner)
    # when
    client.post(reverse("portal:members", args=[team["account"].pk]), {"email": "new@acme.test"})
    # then
    added = Membership.objects.get(account=team["account"], user__email="new@acme.test")
    row = added.history.get()
    assert row.history_user_id == owner.pk
    event = AuditEvent.objects.get(object_type="accounts.membership", object_id=str(added.pk))
    assert (event.actor, event.verb) == (f"user:{owner.pk}@pages", "created")
    assert describe_one(event.actor).display == f"{owner.name} (owner) via pages"
    # when the owner removes them again
    client.post(reverse("portal:member_remove", args=[team["account"].pk, added.pk]))
    # then the removal is recorded by the same person
    removed = AuditEvent.objects.filter(object_type="accounts.membership").order_by("-id").first()
    assert (removed.verb, removed.actor) == ("deleted", f"user:{owner.pk}@pages")
