"""Every API error is application/problem+json, with field errors for validation."""

import pytest

pytestmark = pytest.mark.django_db


def _problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["type"].startswith("urn:aftercare:problem:")
    assert body["title"] and body["detail"]
    return body


def test_validation_error_lists_each_field_problem(agent_client):
    response = agent_client.post(
        "/api/v1/customers/",
        {"given_name": "", "email": "not-an-email", "phone": "0612", "addresses": [{"line1": "x"}]},
        format="json",
    )

    body = _problem(response, 400)
    assert body["code"] == "validation"
    fields = {(e["field"], e["code"]) for e in body["errors"]}
    assert ("given_name", "blank") in fields
    assert ("family_name", "required") in fields
    assert ("email", "invalid") in fields
    assert ("phone", "invalid") in fields
    assert ("addresses[0].city", "required") in fields


def test_malformed_json_is_a_400_problem(agent_client):
    response = agent_client.post("/api/v1/customers/", '{"given_name": ', content_type="application/json")
    assert _problem(response, 400)["code"] == "parse_error"


def test_unknown_fields_are_refused_by_name(agent_client):
    response = agent_client.post(
        "/api/v1/customers/", {"given_name": "A", "family_name": "B", "nickname": "x"}, format="json"
    )
    body = _problem(response, 400)
    assert {"field": "nickname", "code": "invalid", "detail": "Unknown field."} in body["errors"]


def test_not_found_is_a_problem(agent_client):
    assert _problem(agent_client.get("/api/v1/customers/999999/"), 404)["code"] == "not_found"


def test_unauthenticated_is_401_problem(anon_client):
    assert _problem(anon_client.get("/api/v1/customers/"), 401)["code"] == "not_authenticated"


def test_wrong_role_is_403_problem(customer_app_client):
    assert _problem(customer_app_client.get("/api/v1/customers/"), 403)["code"] == "permission_denied"


def test_unsupported_media_type_is_415_problem(agent_client):
    response = agent_client.post("/api/v1/customers/", "given_name=A", content_type="text/plain")
    assert _problem(response, 415)["code"] == "unsupported_media_type"


def test_method_not_allowed_is_405_problem(agent_client):
    assert _problem(agent_client.delete("/api/v1/locations/1/"), 405)["code"] == "method_not_allowed"


def test_oversized_body_is_413_problem(agent_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = agent_client.post("/api/v1/customers/", {"given_name": "A" * 5000, "family_name": "B"}, format="json")
    assert _problem(response, 413)["code"] == "too_large"
