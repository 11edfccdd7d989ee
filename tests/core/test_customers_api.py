"""Customers through the API: create, read with ETag, update with If-Match, duplicates."""

import pytest
from django.core import mail

from core.models import Customer, CustomerExternalId, Notification

pytestmark = pytest.mark.django_db

NEW = {
    "given_name": "Maria",
    "family_name": "Jansen",
    "email": "maria@example.com",
    "phone": "+31612345678",
    "time_zone": "Europe/Amsterdam",
    "preferred_channel": "sms",
    "consent_email": True,
    "consent_sms": True,
    "addresses": [
        {"label": "home", "line1": "Keizersgracht 1", "city": "Amsterdam", "postcode": "1015CJ", "country": "NL"},
        {"label": "work", "line1": "Damrak 70", "city": "Amsterdam", "postcode": "1012LM", "country": "NL"},
    ],
    "external_ids": [{"source": "pos", "external_id": "P-77"}],
}


def test_agent_creates_a_customer_with_addresses_and_external_ids(agent_client):
    response = agent_client.post("/api/v1/customers/", NEW, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["number"].startswith("C") and len(body["number"]) == 9
    assert [a["is_default"] for a in body["addresses"]] == [True, False]
    assert body["external_ids"] == [{"source": "pos", "external_id": "P-77"}]
    assert response["Location"].endswith(f"/api/v1/customers/{body['id']}/")


def test_a_second_customer_with_the_same_email_is_a_409(agent_client):
    agent_client.post("/api/v1/customers/", NEW, format="json")
    twin = {**NEW, "email": "MARIA@example.com", "external_ids": []}

    response = agent_client.post("/api/v1/customers/", twin, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "email_taken"
    assert Customer.objects.count() == 1


def test_an_external_id_already_linked_is_a_409_and_nothing_is_written(agent_client):
    agent_client.post("/api/v1/customers/", NEW, format="json")
    other = {**NEW, "email": "other@example.com"}

    response = agent_client.post("/api/v1/customers/", other, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "external_id_taken"
    assert Customer.objects.count() == 1
    assert CustomerExternalId.objects.count() == 1


def test_detail_carries_an_etag_and_a_stale_if_match_is_412_without_change(agent_client):
    created = agent_client.post("/api/v1/customers/", NEW, format="json").json()
    url = f"/api/v1/customers/{created['id']}/"
    etag = agent_client.get(url)["ETag"]
    assert etag == created["etag"]

    first = agent_client.patch(url, {"given_name": "Marie"}, format="json", HTTP_IF_MATCH=etag)
    stale = agent_client.patch(url, {"given_name": "Mia"}, format="json", HTTP_IF_MATCH=etag)

    assert first.status_code == 200
    assert first["ETag"] != etag
    assert stale.status_code == 412
    assert stale.json()["current_etag"] == first["ETag"]
    assert Customer.objects.get(pk=created["id"]).given_name == "Marie"


def test_changing_the_email_warns_the_previous_address_once_and_keeps_history(
    agent_client, django_capture_on_commit_callbacks
):
    created = agent_client.post("/api/v1/customers/", {**NEW, "preferred_channel": "email"}, format="json").json()
    url = f"/api/v1/customers/{created['id']}/"

    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.patch(url, {"email": "maria.new@example.com"}, format="json")

    assert response.status_code == 200
    notes = {n.channel: n for n in Notification.objects.filter(event="contact_details_changed")}
    assert set(notes) == {"email", "sms"}
    assert notes["email"].recipient == "maria@example.com"  # the old address: the owner learns of it
    assert notes["sms"].recipient == "+31612345678"
    assert all(n.status == "sent" for n in notes.values())
    assert [m.to for m in mail.outbox] == [["maria@example.com"]]
    assert "email" in mail.outbox[0].body
    history = Customer.objects.get(pk=created["id"]).history.all()
    assert [h.email for h in history][:2] == ["maria.new@example.com", "maria@example.com"]


def test_changing_only_the_name_sends_nothing(agent_client):
    created = agent_client.post("/api/v1/customers/", NEW, format="json").json()
    agent_client.patch(f"/api/v1/customers/{created['id']}/", {"given_name": "Mia"}, format="json")
    assert not Notification.objects.exists()


def test_list_searches_by_email_phone_number_or_name(agent_client):
    created = agent_client.post("/api/v1/customers/", NEW, format="json").json()
    agent_client.post(
        "/api/v1/customers/", {"given_name": "Piet", "family_name": "Bakker", "email": "p@example.com"}, format="json"
    )

    for term in ("maria@example.com", "+31612345678", created["number"], "Jansen"):
        results = agent_client.get("/api/v1/customers/", {"search": term}).json()["results"]
        assert [r["id"] for r in results] == [created["id"]], term


def test_list_filters_by_external_id(agent_client):
    created = agent_client.post("/api/v1/customers/", NEW, format="json").json()
    other = {**NEW, "email": "x@example.com", "external_ids": [{"source": "web", "external_id": "P-77"}]}
    agent_client.post("/api/v1/customers/", other, format="json")  # the same id, in another system

    results = agent_client.get("/api/v1/customers/", {"external_id": "pos:P-77"}).json()["results"]

    assert [r["id"] for r in results] == [created["id"]]
    assert agent_client.get("/api/v1/customers/", {"external_id": "pos:none"}).json()["results"] == []


def test_linking_external_ids_needs_the_permission_for_it(associate_client):
    response = associate_client.post("/api/v1/customers/", NEW, format="json")
    assert response.status_code == 403
    assert Customer.objects.count() == 0
