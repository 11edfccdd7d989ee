"""Rate limits: anonymous callers, and endpoints that look secrets up."""

import pytest
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from core.api.throttling import SecretLookupThrottle

pytestmark = pytest.mark.django_db


def _set_rate(monkeypatch, scope, rate):
    """DRF reads the rates once at import: patch the class attribute, restored after the test."""
    rates = {**SimpleRateThrottle.THROTTLE_RATES, scope: rate}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)


def test_anonymous_callers_are_throttled_with_retry_after(monkeypatch, anon_client):
    _set_rate(monkeypatch, "anon", "3/min")
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


def test_secret_lookups_are_limited_per_caller(monkeypatch, associate, agent):
    _set_rate(monkeypatch, "secret_lookup", "2/min")
    factory = APIRequestFactory()
    view = LookupView.as_view()

    def call(ip, user=None, forwarded="1.2.3.4"):
        request = factory.get("/lookup/", REMOTE_ADDR=ip, HTTP_X_FORWARDED_FOR=forwarded)
        if user is not None:
            force_authenticate(request, user)
        return view(request).status_code

    assert [call("10.0.0.1", forwarded=f"9.9.9.{i}") for i in range(3)] == [200, 200, 429]  # header ignored
    assert call("10.0.0.2") == 200
    assert [call("10.0.0.3", user=associate) for _ in range(3)] == [200, 200, 429]
    assert call("10.0.0.3", user=agent) == 200  # per user, not per shared store IP
