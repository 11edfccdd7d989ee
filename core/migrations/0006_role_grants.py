from django.db import migrations

from core.roles import grant_role_permissions

GRANTS = {
    # Editing a customer's address list replaces it: the roles that edit customers may remove one.
    "associate": {"customeraddress": ("delete",)},
    "customer_service": {"customeraddress": ("delete",)},
    # Managers pick users for associate profiles in the admin (autocomplete needs view_user).
    "manager": {"user": ("view",)},
}


def grant(apps, schema_editor):
    grant_role_permissions(apps, schema_editor, "core", GRANTS)


class Migration(migrations.Migration):
    dependencies = [("core", "0005_touchpoint_customer_statistics")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
