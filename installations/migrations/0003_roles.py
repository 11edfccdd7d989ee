from django.db import migrations

from core.roles import ALL, grant_role_permissions

FRONT_LINE = {
    "servicetype": ("view",),
    "workinghours": ("view",),
    "absence": ("view",),
    "appointment": ("view", "add", "change"),
}

GRANTS = {
    "associate": FRONT_LINE,
    "customer_service": FRONT_LINE,
    # managers keep the service catalogue and their people's hours and absences
    "manager": FRONT_LINE
    | {
        "servicetype": ("view", "add", "change"),
        "workinghours": ALL,
        "absence": ALL,
    },
    "admin": {model: ALL for model in FRONT_LINE},
}


def grant(apps, schema_editor):
    grant_role_permissions(apps, schema_editor, "installations", GRANTS)


class Migration(migrations.Migration):
    dependencies = [("installations", "0002_no_double_booking"), ("core", "0002_roles")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
