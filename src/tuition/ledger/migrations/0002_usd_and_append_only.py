"""USD is built in; ledger rows are append-only in the database itself.

PostgreSQL refuses UPDATE and DELETE of transfers and entries with a trigger. SQLite refuses
UPDATE; it cannot refuse DELETE without also breaking the test suite's table flush, so there the
models and the absence of any delete path keep entries in place.
"""

from django.db import migrations

TABLES = ["ledger_transfer", "ledger_entry"]


def add_usd(apps, schema_editor):
    Unit = apps.get_model("ledger", "Unit")
    Unit.objects.get_or_create(
        code="USD",
        defaults={"name": "Training credits (USD)", "decimals": 2, "expiry_days": 365,
                  "is_builtin": True},
    )


def add_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(
            """
            CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'ledger rows are append-only (%% on %%)', TG_OP, TG_TABLE_NAME;
            END;
            $$ LANGUAGE plpgsql;
            """
        )
        for table in TABLES:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();"
            )
    elif vendor == "sqlite":
        for table in TABLES:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'ledger rows are append-only'); END;"
            )


def drop_triggers(apps, schema_editor):
    for table in TABLES:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")
        else:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only;")


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [
        migrations.RunPython(add_usd, migrations.RunPython.noop),
        migrations.RunPython(add_triggers, drop_triggers),
    ]
