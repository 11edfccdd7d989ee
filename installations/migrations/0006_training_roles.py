from django.db import migrations

from core.roles import ALL, grant_role_permissions

FRONT_LINE = {
    "trainingcourse": ("view",),
    "trainingsession": ("view", "add", "change"),
    "enrolment": ("view", "add", "change"),
}

GRANTS = {
    "associate": FRONT_LINE,
    "customer_service": FRONT_LINE,
    "manager": FRONT_LINE | {"trainingcourse": ("view", "add", "change")},
    "admin": {model: ALL for model in FRONT_LINE},
}


def grant(apps, schema_editor):
    grant_role_permissions(apps, schema_editor, "installations", GRANTS)


class Migration(migrations.Migration):
    dependencies = [("installations", "0005_training"), ("core", "0002_roles")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
