"""Writes sent together (core.round_trips): on PostgreSQL a batch goes out in one round trip and
its checks run when it is back; a failure anywhere in it fails the block, and its transaction
writes nothing. On SQLite every statement runs and is checked at once."""

import pytest
from django.db import IntegrityError, connection, transaction

from tests.factories import AccountFactory, usd
from tuition.core import round_trips
from tuition.core.reused_queries import insert, insert_many
from tuition.core.round_trips import one_round_trip
from tuition.ledger.locks import lock_wallet
from tuition.ledger.models import Transfer, Wallet

pytestmark = pytest.mark.django_db(transaction=True)

ON_POSTGRES = connection.vendor == "postgresql"


def _transfer(account, unit, *, key=None, unique_key=None) -> Transfer:
    return Transfer(
        pk=key,
        kind=Transfer.Kind.ADJUST,
        account_id=account.pk,
        unit_id=unit.pk,
        amount=1,
        created_at="2026-12-01T10:00:00Z",
        actor="t",
        unique_key=unique_key,
    )


def test_a_batch_checks_its_results_once_they_are_back():
    account, unit = AccountFactory(), usd()
    seen: list[str] = []
    with transaction.atomic(), one_round_trip():
        round_trips.execute(
            f"UPDATE {Wallet._meta.db_table} SET unit_id = unit_id WHERE account_id = %s",
            [account.pk],
            then=lambda cursor: seen.append(f"rows {cursor.rowcount}"),
        )
        first, second = insert_many([_transfer(account, unit), _transfer(account, unit)])
        seen.append("end of block")
    # PostgreSQL: sent, and checked when the block ends; SQLite: checked at once
    assert seen == (["end of block", "rows 0"] if ON_POSTGRES else ["rows 0", "end of block"])
    # the keys the inserts returned are set once the batch is back
    assert first.pk is not None and second.pk == first.pk + 1
    assert set(Transfer.objects.values_list("pk", flat=True)) == {first.pk, second.pk}


def test_keys_drawn_with_the_wallet_lock_let_rows_name_each_other_in_one_batch():
    account, unit = AccountFactory(), usd()
    with transaction.atomic():
        keys = lock_wallet(account.pk, unit.pk, keys_for=[Transfer, Transfer])
        if not ON_POSTGRES:  # nothing to draw from: the keys come from each insert
            assert keys == [None, None]
            return
        assert keys[0] is not None and keys[1] == keys[0] + 1
        with one_round_trip():
            reversed_ = insert(_transfer(account, unit, key=keys[0]))
            reversal = _transfer(account, unit, key=keys[1])
            reversal.reverses = reversed_
            insert(reversal)
    assert Transfer.objects.get(pk=keys[1]).reverses_id == keys[0]
    # the table's own inserts go on after the drawn keys
    assert insert(_transfer(account, unit)).pk > keys[1]


def test_a_clash_anywhere_in_a_batch_fails_the_block_and_writes_nothing():
    account, unit = AccountFactory(), usd()
    insert(_transfer(account, unit, unique_key="once"))
    with pytest.raises(IntegrityError) as raised, transaction.atomic(), one_round_trip():
        insert(_transfer(account, unit))
        insert(_transfer(account, unit, unique_key="once"))
        insert(_transfer(account, unit))
    if ON_POSTGRES:
        assert round_trips.violated(raised.value, *_unique_key_constraints())
        assert not round_trips.violated(raised.value, "some_other_constraint")
    assert Transfer.objects.count() == 1


def test_a_check_that_refuses_rolls_the_batch_back():
    account, unit = AccountFactory(), usd()

    def refuse(cursor) -> None:
        raise ValueError("a guarded update changed no row")

    with pytest.raises(ValueError), transaction.atomic(), one_round_trip():
        insert(_transfer(account, unit))
        round_trips.execute("SELECT 1", [], then=refuse)
        insert(_transfer(account, unit))
    assert not Transfer.objects.exists()
    # and the connection is fit for the next transaction
    with transaction.atomic(), one_round_trip():
        insert(_transfer(account, unit))
    assert Transfer.objects.count() == 1


def _unique_key_constraints() -> list[str]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Transfer._meta.db_table)
    return [
        name for name, c in constraints.items() if c["unique"] and c["columns"] == ["unique_key"]
    ]


def test_reads_sent_with_the_wallet_lock_come_back_with_it_once_even_for_a_new_wallet():
    account, unit = AccountFactory(), usd()
    assert not Wallet.objects.filter(account=account, unit=unit).exists()
    kept: list[list[tuple]] = []
    sent: list[str] = []

    def read_wallets() -> None:
        sent.append("read")
        round_trips.execute(
            f"SELECT account_id, unit_id FROM {Wallet._meta.db_table} WHERE account_id = %s",
            [account.pk],
            then=lambda cursor: kept.append(cursor.fetchall()),
        )

    with transaction.atomic():
        (key,) = lock_wallet(account.pk, unit.pk, keys_for=[Transfer], reads=read_wallets)
        # the wallet did not exist: it was added, then locked and read again; the read of the
        # second try, made with the lock held, sees it
        assert sent == ["read", "read"]
        assert kept[-1] == [(account.pk, unit.pk)]
        assert (key is not None) == ON_POSTGRES
    assert Wallet.objects.filter(account=account, unit=unit).count() == 1
