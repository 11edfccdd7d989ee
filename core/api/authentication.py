"""Mobile apps authenticate with the session token django-allauth headless hands out."""

from allauth.headless.contrib.rest_framework.authentication import XSessionTokenAuthentication


class SessionTokenAuthentication(XSessionTokenAuthentication):
    """allauth's X-Session-Token, plus a WWW-Authenticate challenge so that a missing or
    expired token is a 401 (sign in again), not a 403 (not allowed)."""

    def authenticate_header(self, request):
        return 'X-Session-Token realm="api"'
