"""The one-time conversion of old ledger actors: emails become user ids, and the ledger is
append-only again afterwards."""

import importlib

import pytest
from django.apps import apps
from django.db import DatabaseError, connection, transaction

from tests.factories import AccountFactory, UserFactory, usd
from tuition.ledger import services as ledger
from tuition.ledger.models import Transfer

migration = importlib.import_module("tuition.ledger.migrations.0005_transfer_actor_references")


@pytest.mark.django_db(transaction=True)
def test_old_email_actors_become_user_ids_and_the_ledger_stays_append_only():
    # given transfers written before references: by email, by a gone person, by a job
    olga = UserFactory(email="olga@acme.test")
    account = AccountFactory()
    for amount, actor in [
        (100, "user:Olga@acme.test"),
        (200, "user:gone@acme.test"),
        (300, "system:periodic"),
    ]:
        ledger.issue_credit(account_id=account.pk, unit=usd(), redeemable_value=amount, actor=actor)
    ledger.debit(
        account_id=account.pk,
        unit=usd(),
        amount=1,
        actor="user:olga@acme.test",
        metadata={"learner": "olga@acme.test", "item": "activity:1"},
    )
    # when the migration runs
    with connection.schema_editor() as editor:
        migration.emails_to_ids(apps, editor)
    # then no email is left, and the rest is untouched
    actors = list(
        Transfer.objects.filter(kind="issue").order_by("amount").values_list("amount", "actor")
    )
    assert actors == [(100, f"user:{olga.pk}"), (200, "user:former"), (300, "system:periodic")]
    checkout = Transfer.objects.get(kind="redeem")
    assert checkout.actor == f"user:{olga.pk}"
    # (its metadata's email is the next migration's: see test_metadata_migration.py)
    assert checkout.metadata == {"learner": "olga@acme.test", "item": "activity:1"}
    # and the database refuses updates again
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_transfer SET actor = 'x'")
    assert Transfer.objects.filter(actor="x").count() == 0
