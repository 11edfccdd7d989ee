"""Bad input never gives a 500: every write endpoint answers malformed JSON, wrong types, unknown
fields, huge strings and foreign ids with a clear 4xx problem, and writes nothing."""

import json

import pytest

from core.models import Customer, CustomerAddress, Inventory, Location, Product
from tests.factories import CustomerAddressFactory, CustomerFactory, InventoryFactory, LocationFactory, ProductFactory

pytestmark = pytest.mark.django_db

HUGE = "x" * 100_000

# endpoint name -> (client fixture, method, url builder, wrong-typed payloads)
ENDPOINTS = {
    "customer create": (
        "agent_client",
        "post",
        lambda o: "/api/v1/customers/",
        [
            {"given_name": {"a": 1}, "family_name": "B"},
            {"given_name": "A", "family_name": "B", "consent_email": "perhaps"},
            {"given_name": "A", "family_name": "B", "addresses": "home"},
            {
                "given_name": "A",
                "family_name": "B",
                "addresses": [{"line1": "x", "city": "y", "postcode": "1", "country": "NL", "latitude": "1e400"}],
            },
            {"given_name": "A", "family_name": "B", "time_zone": "Mars/Olympus"},
            {"given_name": "A", "family_name": "B", "preferred_channel": "pigeon"},
        ],
    ),
    "customer update": (
        "agent_client",
        "patch",
        lambda o: f"/api/v1/customers/{o['customer'].pk}/",
        [
            {"email": 42},
            {"given_name": None},
            {"external_ids": [{"source": "pos", "external_id": "1"}]},
        ],
    ),
    "location create": (
        "manager_client",
        "post",
        lambda o: "/api/v1/locations/",
        [
            {
                "code": "X",
                "name": "X",
                "kind": "store",
                "address_line1": "a",
                "city": "c",
                "postcode": "p",
                "country": "NL",
                "latitude": "north",
                "longitude": "4",
                "time_zone": "UTC",
            },
            {
                "code": "X",
                "name": "X",
                "kind": "moon",
                "address_line1": "a",
                "city": "c",
                "postcode": "p",
                "country": "NL",
                "latitude": "95",
                "longitude": "4",
                "time_zone": "UTC",
            },
            {
                "code": "X",
                "name": "X",
                "kind": "store",
                "address_line1": "a",
                "city": "c",
                "postcode": "p",
                "country": "NL",
                "latitude": "52",
                "longitude": "4",
                "time_zone": "UTC",
                "opening_hours": {"mon": [["18:00", "09:00"]]},
            },
        ],
    ),
    "location update": (
        "manager_client",
        "patch",
        lambda o: f"/api/v1/locations/{o['location'].pk}/",
        [
            {"opening_hours": "always"},
            {"opening_hours": {"funday": []}},
            {"open_24h": [True]},
        ],
    ),
    "product create": (
        "manager_client",
        "post",
        lambda o: "/api/v1/products/",
        [
            {"sku": "S", "name": "N", "category": "no-such-category", "price": "1.00", "currency": "EUR"},
            {"sku": "S", "name": "N", "category": "furniture", "price": [1], "currency": "EUR"},
            {"sku": "S", "name": "N", "category": "furniture", "price": "-1.00", "currency": "EUR"},
            {"sku": "S", "name": "N", "category": "furniture", "price": "1" * 40, "currency": "EUR"},
            {"sku": "S", "name": "N", "category": "furniture", "price": "1.00", "currency": "euro"},
            {"sku": "S", "name": "N", "category": "furni\u0000ture", "price": "1.00", "currency": "EUR"},
        ],
    ),
    "product update": (
        "manager_client",
        "patch",
        lambda o: f"/api/v1/products/{o['product'].pk}/",
        [
            {"return_window_days": -3},
            {"return_window_days": 10**12},
        ],
    ),
    "inventory adjust": (
        "manager_client",
        "post",
        lambda o: f"/api/v1/inventory/{o['inventory'].pk}/adjust/",
        [
            {"on_hand_delta": "many"},
            {"on_hand_delta": 10**30},
            {},
            {"on_hand_delta": 0, "reserved_delta": 0},
        ],
    ),
    "me update": (
        "customer_app_client",
        "patch",
        lambda o: "/api/v1/me/",
        [
            {"email": "someone.else@example.com"},  # the login e-mail is not changed here
            {"customer": 1},
            {"phone": "call me"},
        ],
    ),
}


@pytest.fixture
def objects(db):
    CustomerAddressFactory()
    return {
        "customer": CustomerFactory(),
        "location": LocationFactory(),
        "product": ProductFactory(),
        "inventory": InventoryFactory(on_hand=3),
    }


def _snapshot():
    return (
        list(Customer.objects.order_by("pk").values()),
        list(CustomerAddress.objects.order_by("pk").values()),
        list(Location.objects.order_by("pk").values()),
        list(Product.objects.order_by("pk").values()),
        list(Inventory.objects.order_by("pk").values_list("on_hand", "reserved")),
    )


def _generic_bad_bodies():
    return [
        ("malformed json", '{"given_name": "A", ', 400),
        ("not an object", "[1, 2, 3]", 400),
        ("unknown field", json.dumps({"nickname": "Bo"}), 400),
        ("huge string", json.dumps({"given_name": HUGE, "name": HUGE, "family_name": HUGE}), 400),
        ("nul character", json.dumps({"given_name": "A\x00B", "name": "A\x00B"}), 400),
    ]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_bad_bodies_get_a_clear_4xx_and_write_nothing(endpoint, objects, request):
    fixture, method, url, wrong_types = ENDPOINTS[endpoint]
    client = request.getfixturevalue(fixture)
    before = _snapshot()
    bodies = _generic_bad_bodies() + [(f"wrong type {i}", json.dumps(p), 400) for i, p in enumerate(wrong_types)]

    for label, body, expected in bodies:
        response = getattr(client, method)(url(objects), body, content_type="application/json")
        assert response.status_code == expected, (endpoint, label, response.status_code, response.content[:300])
        assert response["Content-Type"] == "application/problem+json", (endpoint, label)
        problem = response.json()
        assert problem["detail"], (endpoint, label)
        if expected == 400 and label != "malformed json":
            assert problem["errors"], (endpoint, label)

    assert _snapshot() == before


def test_ids_of_things_that_do_not_exist_are_404(manager_client):
    assert manager_client.post("/api/v1/inventory/999999/adjust/", {"on_hand_delta": 1}).status_code == 404
    assert manager_client.patch("/api/v1/customers/999999/", {"given_name": "X"}).status_code == 404
    assert manager_client.get("/api/v1/customers/not-a-number/").status_code == 404


def test_a_customer_cannot_write_into_another_customers_record(customer_app_client, customer):
    stranger = CustomerFactory()
    stranger_address = CustomerAddressFactory(customer=stranger)
    payload = {
        "addresses": [{"id": stranger_address.pk, "line1": "Hijack 1", "city": "X", "postcode": "1", "country": "NL"}]
    }

    response = customer_app_client.patch("/api/v1/me/", payload, format="json")

    assert response.status_code == 200
    stranger_address.refresh_from_db()
    assert stranger_address.line1 == "2 Canal Street"
    assert stranger_address.customer == stranger
    assert customer.addresses.get().line1 == "Hijack 1"


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/customers/?search=a%00b",
        "/api/v1/customers/?email=a%00b",
        "/api/v1/products/?ordering=na%00me",
        "/customers/?q=a%00b",
        "/customers/C%00123/",
    ],
)
def test_nul_characters_in_urls_are_400(url, client, agent_client, associate):
    client.force_login(associate)
    response = (agent_client if url.startswith("/api/") else client).get(url)
    assert response.status_code == 400
