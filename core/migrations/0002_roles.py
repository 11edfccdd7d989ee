from django.db import migrations

from core.roles import ALL, grant_role_permissions

READ = ("view",)
EDIT = ("view", "add", "change")

GRANTS = {
    "associate": {
        "customer": EDIT, "customeraddress": EDIT, "customerexternalid": READ, "touchpoint": READ,
        "location": READ, "product": READ, "category": READ, "inventory": ("view", "change"),
        "associateprofile": READ, "skill": READ, "notification": READ,
    },
    "customer_service": {
        "customer": EDIT, "customeraddress": EDIT, "customerexternalid": EDIT, "touchpoint": READ,
        "location": READ, "product": READ, "category": READ, "inventory": READ,
        "associateprofile": READ, "skill": READ, "notification": READ,
    },
    "manager": {
        "customer": EDIT, "customeraddress": ALL, "customerexternalid": EDIT, "touchpoint": READ,
        "location": EDIT, "product": EDIT, "category": EDIT, "inventory": EDIT,
        "associateprofile": EDIT, "skill": EDIT, "notification": READ, "statetransition": READ,
    },
    "admin": {
        model: ALL
        for model in (
            "user", "customer", "customeraddress", "customerexternalid", "touchpoint", "location", "product",
            "category", "inventory", "associateprofile", "skill", "notification", "statetransition",
            "idempotencykey",
        )
    },
}


def create_roles(apps, schema_editor):
    grant_role_permissions(apps, schema_editor, "core", GRANTS)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
