"""OpenAPI description of our authentication, so the schema tells app developers how to sign in."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class SessionTokenScheme(OpenApiAuthenticationExtension):
    target_class = "core.api.authentication.SessionTokenAuthentication"
    name = "SessionToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-Session-Token",
            "description": "The session_token from POST /_allauth/app/v1/auth/login (django-allauth headless).",
        }
