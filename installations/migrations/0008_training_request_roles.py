from django.db import migrations

from core.roles import ALL, grant_role_permissions

GRANTS = {
    "associate": {"trainingrequest": ("view", "add", "change")},
    "customer_service": {"trainingrequest": ("view", "add", "change")},
    "manager": {"trainingrequest": ("view", "add", "change")},
    "admin": {"trainingrequest": ALL},
}


def grant(apps, schema_editor):
    grant_role_permissions(apps, schema_editor, "installations", GRANTS)


class Migration(migrations.Migration):
    dependencies = [("installations", "0007_training_requests"), ("core", "0002_roles")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
