"""PostgreSQL plans the timeline from a sample of customer_id values. With the default sample it
assumes every customer has the average number of touchpoints, so for the customers with hundreds
it reads and sorts them all instead of walking touchpoint_customer_newest and stopping after one
page. A larger statistics target lets the planner see the skew."""

from django.db import migrations



def set_statistics(apps, schema_editor, target: int = 1000):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE core_touchpoint ALTER COLUMN customer_id SET STATISTICS %s" % int(target))


def reset_statistics(apps, schema_editor):
    set_statistics(apps, schema_editor, target=-1)


class Migration(migrations.Migration):
    dependencies = [("core", "0004_touchpoint_indexes")]

    operations = [migrations.RunPython(set_statistics, reset_statistics)]
