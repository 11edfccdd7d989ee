from django.db import migrations

from core.roles import ALL, grant_role_permissions

GRANTS = {
    "associate": {"order": ("view",), "orderline": ("view",)},
    "customer_service": {"order": ("view",), "orderline": ("view",)},
    "manager": {"order": ("view", "change"), "orderline": ("view",)},
    "admin": {"order": ALL, "orderline": ALL},
}


def grant(apps, schema_editor):
    grant_role_permissions(apps, schema_editor, "orders", GRANTS)


class Migration(migrations.Migration):
    dependencies = [("orders", "0001_initial"), ("core", "0002_roles")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
