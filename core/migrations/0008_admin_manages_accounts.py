from django.db import migrations

from core.roles import ALL, grant_role_permissions


def grant(apps, schema_editor):
    """Administrators manage roles (groups), sign-in e-mail addresses, and second factors (to help
    someone who lost their phone: view and remove, never read the secret)."""
    grant_role_permissions(apps, schema_editor, "auth", {"admin": {"group": ALL}})
    grant_role_permissions(apps, schema_editor, "account", {"admin": {"emailaddress": ALL}})
    grant_role_permissions(apps, schema_editor, "mfa", {"admin": {"authenticator": ("view", "delete")}})


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0007_timeline_and_outbox_indexes"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("account", "0009_emailaddress_unique_primary_email"),
        ("mfa", "0003_authenticator_type_uniq"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
