"""Who may call what.

Staff endpoints: the caller holds a role (a Django group) whose model permissions cover the
action (`view_` for reads too, unlike DRF's default), has a second factor where their role
requires one, and passes the object-level rule in the view's `restrict()` queryset.
Customer endpoints (`me/...`): the caller is signed in and linked to a customer record; their
querysets are filtered to that customer, so another customer's object is a 404, never a 403.
"""

from rest_framework import permissions

from core.auth import mfa_satisfied


class StaffModelPermissions(permissions.DjangoModelPermissions):
    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
    }
    message = "Your role does not allow this."

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        if not mfa_satisfied(request.user):
            self.message = "Your role requires two-factor authentication; set it up under /accounts/2fa/."
            return False
        return True


class ActionPermission(permissions.BasePermission):
    """For POST actions that are not plain creates: requires the permission the view names in
    `action_permissions[action]` (e.g. {"adjust": "core.change_inventory"})."""

    def has_permission(self, request, view):
        required = getattr(view, "action_permissions", {}).get(getattr(view, "action", None))
        return required is None or request.user.has_perm(required)


class IsCustomer(permissions.BasePermission):
    message = "This endpoint is for customers of the app."

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and getattr(user, "customer", None) is not None)
