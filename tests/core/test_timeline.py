"""The customer timeline: newest first, filters, cursor pages, and the customer's own view."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import CustomerFactory, LocationFactory, ProductFactory, TouchpointFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def story(customer):
    now = timezone.now()
    store = LocationFactory(name="Utrecht Centrum")
    sofa = ProductFactory(name="Sofa, three-piece")
    rows = [
        TouchpointFactory(
            customer=customer,
            kind="purchase",
            channel="store",
            occurred_at=now - timedelta(days=10),
            location=store,
            product=sofa,
            order_number="R23456789",
        ),
        TouchpointFactory(customer=customer, kind="delivery", channel="app", occurred_at=now - timedelta(days=3)),
        TouchpointFactory(customer=customer, kind="complaint", channel="phone", occurred_at=now - timedelta(days=2)),
        TouchpointFactory(customer=customer, kind="notification", channel="sms", occurred_at=now - timedelta(days=1)),
    ]
    TouchpointFactory(customer=CustomerFactory(), kind="complaint", channel="phone")  # someone else's
    return rows


def _ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_timeline_is_newest_first_with_what_a_screen_needs(agent_client, customer, story):
    response = agent_client.get(f"/api/v1/customers/{customer.pk}/timeline/")

    assert _ids(response) == [t.pk for t in reversed(story)]
    purchase = response.json()["results"][-1]
    assert purchase["location"]["name"] == "Utrecht Centrum"
    assert purchase["product"]["name"] == "Sofa, three-piece"
    assert purchase["order_number"] == "R23456789"


def test_timeline_filters_by_kind_channel_and_date(agent_client, customer, story):
    url = f"/api/v1/customers/{customer.pk}/timeline/"
    assert _ids(agent_client.get(url, {"kind": "complaint"})) == [story[2].pk]
    assert _ids(agent_client.get(url, {"kind": ["complaint", "delivery"]})) == [story[2].pk, story[1].pk]
    assert _ids(agent_client.get(url, {"channel": "sms"})) == [story[3].pk]
    after = (timezone.now() - timedelta(days=2, hours=12)).isoformat()
    assert _ids(agent_client.get(url, {"occurred_after": after})) == [story[3].pk, story[2].pk]


def test_timeline_pages_with_a_cursor(agent_client, customer, story):
    first = agent_client.get(f"/api/v1/customers/{customer.pk}/timeline/", {"page_size": 3}).json()
    second = agent_client.get(first["next"]).json()

    assert [r["id"] for r in first["results"] + second["results"]] == [t.pk for t in reversed(story)]
    assert second["next"] is None
    assert "count" not in first


def test_unknown_customer_timeline_is_404(agent_client):
    assert agent_client.get("/api/v1/customers/987654/timeline/").status_code == 404


def test_a_customer_without_touchpoints_has_an_empty_timeline(agent_client, customer, story):
    url = f"/api/v1/customers/{CustomerFactory().pk}/timeline/"
    assert _ids(agent_client.get(url)) == []
    assert _ids(agent_client.get(f"/api/v1/customers/{customer.pk}/timeline/", {"kind": "review"})) == []


def test_bad_filter_values_are_400_not_500(agent_client, customer):
    url = f"/api/v1/customers/{customer.pk}/timeline/"
    assert agent_client.get(url, {"kind": "teleport"}).status_code == 400
    assert agent_client.get(url, {"occurred_after": "yesterday"}).status_code == 400
    assert agent_client.get(url, {"cursor": "garbage"}).status_code == 404


def test_customer_sees_only_their_own_timeline(customer_app_client, customer, story):
    assert _ids(customer_app_client.get("/api/v1/me/timeline/")) == [t.pk for t in reversed(story)]


def test_customer_cannot_read_the_staff_timeline_of_anyone(customer_app_client, customer, story):
    assert customer_app_client.get(f"/api/v1/customers/{customer.pk}/timeline/").status_code == 403
