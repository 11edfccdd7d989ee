"""Rate limits: anonymous callers, and endpoints that look secrets up."""

import pytest
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from core.api.throttling import SecretLookupThrottle

pytestmark = pytest.mark.django_db


def _set_rate(settings, scope, rate):
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], scope: rate}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    from rest_framework.throttling import SimpleRateThrottle

    SimpleRateThrottle.THROTTLE_RATES = rates  # DRF reads the rates once at import


def test_anonymous_callers_are_throttled_with_retry_after(settings, anon_client):
    _set_rate(settings, "anon", "3/min")
    statuses = [anon_client.get("/api/schema/", {"format": "json"}).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    response = anon_client.get("/api/schema/", {"format": "json"})
    assert response["Retry-After"]
    assert response.json()["code"] == "throttled"


class LookupView(APIView):
    permission_classes = []
    throttle_classes = [SecretLookupThrottle]

    def get(self, request):
        return Response({"found": False})


def test_secret_lookups_are_limited_per_caller(settings, associate):
    _set_rate(settings, "secret_lookup", "2/min")
    factory = APIRequestFactory()
    view = LookupView.as_view()

    def call(ip):
        return view(factory.get("/lookup/", REMOTE_ADDR=ip)).status_code

    assert [call("10.0.0.1") for _ in range(3)] == [200, 200, 429]
    assert call("10.0.0.2") == 200
