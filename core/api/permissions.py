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
    """Model permissions of the caller's roles: `view_` for reads, `add_`/`change_` for writes.
    A POST action that is not a create (a transition, an adjustment) names its own permission in
    the view's `action_permissions`, e.g. {"adjust": "core.change_inventory"}; the caller needs it
    and `view_` on the model."""

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
    }
    message = "Your role does not allow this."

    def has_permission(self, request, view):
        user = request.user
        if not user or not user.is_authenticated:
            return False
        if getattr(view, "_ignore_model_permissions", False) or not self._has_method(view, request):
            return True  # the view answers 405 for a method it does not have
        model = self._queryset(view).model
        action_permission = getattr(view, "action_permissions", {}).get(getattr(view, "action", None))
        if action_permission:
            required = [*self.get_required_permissions("GET", model), action_permission]
        else:
            required = self.get_required_permissions(request.method, model)
        if not user.has_perms(required):
            return False
        if not mfa_satisfied(user):
            self.message = "Your role requires two-factor authentication; set it up under /accounts/2fa/."
            return False
        return True

    @staticmethod
    def _has_method(view, request) -> bool:
        method = request.method.lower()
        return method in view.http_method_names and hasattr(view, method)


class IsCustomer(permissions.BasePermission):
    message = "This endpoint is for customers of the app."

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and getattr(user, "customer", None) is not None)
