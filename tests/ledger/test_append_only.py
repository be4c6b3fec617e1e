import pytest
from django.db import DatabaseError, connection, transaction

from tests.factories import AccountFactory, issue
from tuition.ledger.models import Entry, Transfer

pytestmark = pytest.mark.django_db


def test_transfers_and_entries_refuse_to_be_saved_again_or_deleted():
    issue(AccountFactory(), 100)
    transfer = Transfer.objects.get()
    entry = Entry.objects.first()
    for row in (transfer, entry):
        with pytest.raises(RuntimeError, match="append-only"):
            row.save()
        with pytest.raises(RuntimeError, match="append-only"):
            row.delete()


@pytest.mark.parametrize("table", ["ledger_entry", "ledger_transfer"])
def test_the_database_itself_refuses_updates_of_ledger_rows(table):
    issue(AccountFactory(), 100)
    column = "amount"
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {column} = {column} + 1")
    assert sorted(Entry.objects.values_list("amount", flat=True)) == [-100, 100]


def test_the_database_refuses_deleting_ledger_rows_on_postgresql(on_postgres):
    if not on_postgres:
        pytest.skip("SQLite keeps DELETE possible for the test flush; see migration 0002")
    issue(AccountFactory(), 100)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM ledger_entry")
    assert Entry.objects.count() == 2
