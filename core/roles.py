"""Roles are Django groups with model permissions. Each app's migration grants its own models'
permissions with `grant_role_permissions`, so a role's powers grow with the schema and stay
in version control."""

from django.contrib.auth.management import create_permissions

ALL = ("view", "add", "change", "delete")


def grant_role_permissions(apps, schema_editor, app_label: str, grants: dict[str, dict[str, tuple]]):
    """`grants` maps role -> model name -> actions, e.g. {"associate": {"customer": ("view", "add")}}."""
    # Permissions are normally created after all migrations; create this app's now. The stub
    # app config of a migration state lacks `models_module`, which create_permissions checks.
    app_config = apps.get_app_config(app_label)
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, models in grants.items():
        group, _ = Group.objects.get_or_create(name=role)
        for model, actions in models.items():
            codenames = [f"{action}_{model}" for action in actions]
            perms = Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
            found = set(perms.values_list("codename", flat=True))
            missing = set(codenames) - found
            if missing:
                raise LookupError(f"{app_label}: no permissions {sorted(missing)}")
            group.permissions.add(*perms)
