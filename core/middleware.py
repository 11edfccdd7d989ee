"""Request guards that apply to every page and endpoint."""

from urllib.parse import unquote

from django.http import HttpResponseBadRequest
from django.shortcuts import redirect
from django.urls import reverse

from core.auth import mfa_satisfied

EXEMPT_PREFIXES = ("/accounts/", "/static/", "/api/", "/_allauth/")


class RejectNulMiddleware:
    """A NUL character in the path or the query string is never meaningful, and PostgreSQL refuses
    it in text: answer 400 here rather than a database error deep in a search or a look-up."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or "\x00" in unquote(request.META.get("QUERY_STRING", "")):
            return HttpResponseBadRequest("NUL characters are not allowed in URLs.", content_type="text/plain")
        return self.get_response(request)


class RequireMFAMiddleware:
    """Keep users whose role requires MFA on the MFA set-up pages until they have a second factor."""

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
