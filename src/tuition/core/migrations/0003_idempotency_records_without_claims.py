from django.db import migrations


def drop_open_claims(apps, schema_editor):
    # A claim without an answer belonged to a request that never finished: its retry runs anew.
    record = apps.get_model("core", "IdempotencyRecord")
    record.objects.filter(status="in_progress").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_idempotency_response_text"),
    ]

    operations = [
        migrations.RunPython(drop_open_claims, migrations.RunPython.noop),
    ]
