"""Transfers name their learner by user id, no longer by email address.

Checkouts used to write `{"learner": "<email>"}` into a transfer's metadata; the append-only
ledger must hold references only, so that a person can be forgotten without touching it. This
one-time rewrite (the only change ever made to written transfers, and never to an amount) lifts
the append-only trigger for its own statements and puts it back.
"""

from django.db import migrations

TABLE = "ledger_transfer"


def _without_trigger(schema_editor, change):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER {TABLE}_append_only;")
    elif vendor == "sqlite":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only;")
    change()
    if vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {TABLE} ENABLE TRIGGER {TABLE}_append_only;")
    elif vendor == "sqlite":
        schema_editor.execute(
            f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE ON {TABLE} "
            f"BEGIN SELECT RAISE(ABORT, 'ledger rows are append-only'); END;"
        )


def learner_ids(apps, schema_editor):
    Transfer = apps.get_model("ledger", "Transfer")
    User = apps.get_model("accounts", "User")
    named = list(Transfer.objects.filter(metadata__has_key="learner").only("pk", "metadata"))
    if not named:
        return
    emails = {str(t.metadata["learner"]).lower() for t in named}
    ids = {
        email.lower(): pk
        for pk, email in User.objects.filter(email__in=emails).values_list("pk", "email")
    }

    def change():
        for transfer in named:
            metadata = dict(transfer.metadata)
            email = str(metadata.pop("learner")).lower()
            metadata["learner_id"] = ids.get(email)
            Transfer.objects.filter(pk=transfer.pk).update(metadata=metadata)

    _without_trigger(schema_editor, change)


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0005_transfer_actor_references"),
        ("accounts", "0002_user_language_timezone"),
    ]

    operations = [migrations.RunPython(learner_ids, migrations.RunPython.noop)]
