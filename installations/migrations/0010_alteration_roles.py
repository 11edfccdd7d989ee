from django.db import migrations

from core.roles import ALL, grant_role_permissions

# Associates (tailors and technicians among them) and customer service take and work alteration
# orders; managers also keep the catalogue of kinds.
GRANTS = {
    "associate": {"alteration": ("view", "add", "change"), "alterationkind": ("view",)},
    "customer_service": {"alteration": ("view", "add", "change"), "alterationkind": ("view",)},
    "manager": {"alteration": ("view", "add", "change"), "alterationkind": ("view", "add", "change")},
    "admin": {"alteration": ALL, "alterationkind": ALL},
}


def grant(apps, schema_editor):
    grant_role_permissions(apps, schema_editor, "installations", GRANTS)


class Migration(migrations.Migration):
    dependencies = [("installations", "0009_alterations"), ("core", "0002_roles")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
