"""Transfers written before the ledger held references: their learner's email becomes the
learner's user id, once, and nothing else of them changes."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("ledger", "0004_lot_scope_item_list"), ("accounts", "0002_user_language_timezone")]
AFTER = [("ledger", "0006_transfer_metadata_holds_learner_ids")]


@pytest.mark.django_db(transaction=True)
def test_old_transfers_name_their_learner_by_id():
    # given the ledger as it was, with a checkout transfer naming its learner by email
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    User = apps.get_model("accounts", "User")
    Account = apps.get_model("accounts", "TrainingAccount")
    Unit = apps.get_model("ledger", "Unit")
    Transfer = apps.get_model("ledger", "Transfer")
    ana = User.objects.create(email="ana@acme.test", password="!")
    account = Account.objects.create(name="Acme")
    # (an earlier test's flush may have removed the built-in USD row)
    unit, _ = Unit.objects.get_or_create(
        code="USD", defaults={"name": "Training credits (USD)", "decimals": 2, "is_builtin": True}
    )
    common = {"unit": unit, "account": account, "amount": 500, "created_at": "2026-01-01T00:00Z"}
    named = Transfer.objects.create(
        kind="redeem",
        actor="job:test",
        metadata={"learner": "Ana@acme.test", "item": "a:1"},
        **common,
    )
    gone = Transfer.objects.create(
        kind="redeem", actor="job:test", metadata={"learner": "left@else.test"}, **common
    )
    other = Transfer.objects.create(kind="issue", actor="job:test", metadata={}, **common)
    # when the ledger is migrated
    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    apps = executor.loader.project_state(AFTER).apps
    Transfer = apps.get_model("ledger", "Transfer")
    # then the learner is their id (None for an address nobody has), and the rest is as it was
    assert Transfer.objects.get(pk=named.pk).metadata == {"learner_id": ana.pk, "item": "a:1"}
    assert Transfer.objects.get(pk=gone.pk).metadata == {"learner_id": None}
    assert Transfer.objects.get(pk=other.pk).metadata == {}
    assert list(Transfer.objects.order_by("pk").values_list("amount", flat=True)) == [500] * 3
    # and the ledger refuses changes again
    with pytest.raises(Exception, match="append-only"):
        Transfer.objects.filter(pk=other.pk).update(reason="changed")
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
