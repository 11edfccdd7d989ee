"""On PostgreSQL, the database itself refuses two holding appointments of one associate whose
blocked times overlap (btree_gist lets the GiST index compare the associate by equality). SQLite
has no exclusion constraints: there the booking service checks under SQLite's write lock, which
serialises writers (decision 0002)."""

from django.db import migrations

CREATE = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE installations_appointment ADD CONSTRAINT appointment_no_double_booking
    EXCLUDE USING gist (associate_id WITH =, tstzrange(blocked_from, blocked_until, '[)') WITH &&)
    WHERE (status IN ('scheduled', 'in_progress'));
"""
DROP = "ALTER TABLE installations_appointment DROP CONSTRAINT IF EXISTS appointment_no_double_booking;"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("installations", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
