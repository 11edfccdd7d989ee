"""Keep users whose role requires MFA on the MFA set-up pages until they have a second factor."""

from django.shortcuts import redirect
from django.urls import reverse

from core.auth import mfa_satisfied

EXEMPT_PREFIXES = ("/accounts/", "/static/", "/api/", "/_allauth/")


class RequireMFAMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(EXEMPT_PREFIXES)
            and not mfa_satisfied(user)
        ):
            return redirect(reverse("mfa_activate_totp"))
        return self.get_response(request)
