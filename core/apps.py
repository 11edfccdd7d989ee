from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Aftercare core"

    def ready(self):
        from django.contrib.auth.models import Group, Permission
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from core.api import schema  # noqa: F401  (registers the OpenAPI authentication extension)
        from core.models import User
        from core.permissions_cache import bump_version

        for relation in (User.groups.through, User.user_permissions.through, Group.permissions.through):
            m2m_changed.connect(bump_version, sender=relation, dispatch_uid=f"perm-cache-{relation.__name__}")
        for model in (Group, Permission):
            post_delete.connect(bump_version, sender=model, dispatch_uid=f"perm-cache-del-{model.__name__}")
        post_save.connect(bump_version, sender=Permission, dispatch_uid="perm-cache-save-permission")
