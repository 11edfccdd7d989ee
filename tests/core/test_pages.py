"""The associate pages, through Django's test client (the browser tests drive them in Chromium)."""

import pytest

from core.models import Customer, Location
from tests.factories import CustomerFactory, TouchpointFactory

pytestmark = pytest.mark.django_db


def test_customer_page_ignores_unknown_filter_values(client, associate):
    customer = CustomerFactory()
    TouchpointFactory(customer=customer, kind="delivery", summary="Sofa delivered")
    client.force_login(associate)

    response = client.get(f"/customers/{customer.number}/", {"kind": "<script>", "channel": "pigeon"})

    assert response.status_code == 200
    assert response.context["kind"] == "" and response.context["channel"] == ""
    assert b"Sofa delivered" in response.content
    assert b"<script>" not in response.content


def test_a_stored_time_zone_that_is_no_longer_known_shows_utc_instead_of_failing(client, associate):
    customer = CustomerFactory()
    Customer.objects.filter(pk=customer.pk).update(time_zone="Atlantis/Capital")
    Location.objects.filter(pk=associate.associate.home_location_id).update(time_zone="Nowhere/Town")
    client.force_login(associate)

    assert client.get(f"/customers/{customer.number}/").status_code == 200
    assert client.get("/").status_code == 200


def test_search_finds_by_number_email_phone_or_name(client, associate):
    customer = CustomerFactory(family_name="de Wit", email="dewit@example.com", phone="+31611122233")
    CustomerFactory(family_name="Jansen")
    client.force_login(associate)

    for term in (customer.number, "DEWIT@example.com", "+31611122233", "de w"):
        page = client.get("/customers/", {"q": term}).context["page"]
        assert [c.pk for c in page.object_list] == [customer.pk], term


def test_pages_are_for_staff_only(client, customer):
    client.force_login(customer.user)
    assert client.get("/").status_code == 403
    assert client.get(f"/customers/{customer.number}/").status_code == 403
