"""Transfers written before actor references named people by email ("user:<email>"); they now
name them by user id ("user:<id>"), so erasing a person never has to touch the ledger (a
checkout's `metadata["learner"]` is converted by migration 0006).

The ledger refuses UPDATE in the database itself (migration 0002). This one-time conversion
lifts that refusal on `ledger_transfer` for its own duration, inside the migration's
transaction, and puts it back before it ends. Only the `actor` column changes, and only for
emails that belong to a user; an email with no user left is replaced by "user:former" so no
address stays behind. Amounts and entries are untouched.
"""

from django.db import migrations

TABLE = "ledger_transfer"


def _drop(schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE};")
    else:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only;")


def _restore(schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
            f"FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();"
        )
    elif schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(
            f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE ON {TABLE} "
            f"BEGIN SELECT RAISE(ABORT, 'ledger rows are append-only'); END;"
        )


def emails_to_ids(apps, schema_editor):
    Transfer = apps.get_model("ledger", "Transfer")
    User = apps.get_model("accounts", "User")
    old = set(
        Transfer.objects.filter(actor__startswith="user:", actor__contains="@")
        .values_list("actor", flat=True)
        .distinct()
    )
    if not old:
        return
    ids = {email.lower(): pk for email, pk in User.objects.values_list("email", "pk")}

    def reference(email):
        user_id = ids.get(email.lower())
        return f"user:{user_id}" if user_id else "user:former"

    _drop(schema_editor)
    for actor in old:
        Transfer.objects.filter(actor=actor).update(actor=reference(actor.partition(":")[2]))
    _restore(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0004_lot_scope_item_list"),
        ("accounts", "0002_user_language_timezone"),
    ]

    operations = [migrations.RunPython(emails_to_ids, migrations.RunPython.noop)]
