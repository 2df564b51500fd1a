from django.db import migrations

from rewards.db import LEDGER_TRIGGERS_DROP_SQL, LEDGER_TRIGGERS_SQL


def create_triggers(apps, schema_editor):
    for statement in LEDGER_TRIGGERS_SQL.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement, params=None)


def drop_triggers(apps, schema_editor):
    for statement in LEDGER_TRIGGERS_DROP_SQL.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("rewards", "0001_initial")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
