"""Authorisation matrix: every core endpoint x every role, and denials leave no trace."""

import pytest

from core.models import Customer, Inventory, Location, Product
from core.services.notifications import notify
from tests.factories import CategoryFactory, CustomerFactory, InventoryFactory, LocationFactory, ProductFactory
from tests.matrix import assert_allowed_or_refused

pytestmark = pytest.mark.django_db

ROLES = ["anon", "roleless", "customer", "associate", "agent", "manager", "admin"]
STAFF = {"associate", "agent", "manager", "admin"}
MANAGERS = {"manager", "admin"}


@pytest.fixture
def objects(associate):
    CategoryFactory(slug="lighting", name="Lighting")
    return {
        "customer": CustomerFactory(),
        "location": LocationFactory(),
        "product": ProductFactory(),
        "inventory_elsewhere": InventoryFactory(on_hand=5),
        "inventory_home": InventoryFactory(location=associate.associate.home_location, on_hand=5),
    }


def _location_payload():
    return {
        "code": "NEW1",
        "name": "New store",
        "kind": "store",
        "address_line1": "1 Road",
        "city": "Gouda",
        "postcode": "2801AA",
        "country": "NL",
        "latitude": "52.0",
        "longitude": "4.7",
        "time_zone": "Europe/Amsterdam",
    }


# (name, method, url builder, payload builder, allowed roles)
CASES = [
    ("customers list", "get", lambda o: "/api/v1/customers/", None, STAFF),
    ("customer detail", "get", lambda o: f"/api/v1/customers/{o['customer'].pk}/", None, STAFF),
    (
        "customer create",
        "post",
        lambda o: "/api/v1/customers/",
        lambda: {"given_name": "New", "family_name": "Person"},
        STAFF,
    ),
    (
        "customer update",
        "patch",
        lambda o: f"/api/v1/customers/{o['customer'].pk}/",
        lambda: {"given_name": "Changed"},
        STAFF,
    ),
    ("customer timeline", "get", lambda o: f"/api/v1/customers/{o['customer'].pk}/timeline/", None, STAFF),
    ("locations list", "get", lambda o: "/api/v1/locations/", None, STAFF),
    ("location create", "post", lambda o: "/api/v1/locations/", _location_payload, MANAGERS),
    (
        "location update",
        "patch",
        lambda o: f"/api/v1/locations/{o['location'].pk}/",
        lambda: {"name": "Renamed"},
        MANAGERS,
    ),
    ("products list", "get", lambda o: "/api/v1/products/", None, STAFF),
    (
        "product create",
        "post",
        lambda o: "/api/v1/products/",
        lambda: {"sku": "NEW-1", "name": "Lamp", "category": "lighting", "price": "10.00", "currency": "EUR"},
        MANAGERS,
    ),
    (
        "product update",
        "patch",
        lambda o: f"/api/v1/products/{o['product'].pk}/",
        lambda: {"price": "12.50"},
        MANAGERS,
    ),
    ("inventory list", "get", lambda o: "/api/v1/inventory/", None, STAFF),
    (
        "inventory adjust at home",
        "post",
        lambda o: f"/api/v1/inventory/{o['inventory_home'].pk}/adjust/",
        lambda: {"on_hand_delta": 1},
        {"associate", "manager", "admin"},
    ),
    (
        "inventory adjust elsewhere",
        "post",
        lambda o: f"/api/v1/inventory/{o['inventory_elsewhere'].pk}/adjust/",
        lambda: {"on_hand_delta": 1},
        MANAGERS,
    ),
    ("associates list", "get", lambda o: "/api/v1/associates/", None, STAFF),
    ("notifications list", "get", lambda o: "/api/v1/notifications/", None, STAFF),
    ("me", "get", lambda o: "/api/v1/me/", None, {"customer"}),
    ("me update", "patch", lambda o: "/api/v1/me/", lambda: {"given_name": "Me"}, {"customer"}),
    ("my timeline", "get", lambda o: "/api/v1/me/timeline/", None, {"customer"}),
    ("my notifications", "get", lambda o: "/api/v1/me/notifications/", None, {"customer"}),
]


def _everything():
    """Every row a denied request could have touched."""
    return [list(m.objects.order_by("pk").values()) for m in (Customer, Location, Product, Inventory)]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_authorisation_matrix(case, role, clients, objects):
    name, method, url, payload, allowed = case
    before = _everything()

    response = getattr(clients[role], method)(url(objects), payload() if payload else None, format="json")

    assert_allowed_or_refused(response, name=name, role=role, allowed=allowed, before=before, after=_everything)


def test_another_customers_notification_is_404_not_403(customer_app_client, customer):
    stranger = CustomerFactory()
    (theirs,) = notify(customer=stranger, event="contact_details_changed", dedupe_key="x", context={"changed": []})
    (mine,) = notify(customer=customer, event="contact_details_changed", dedupe_key="y", context={"changed": []})

    assert customer_app_client.get(f"/api/v1/me/notifications/{theirs.pk}/").status_code == 404
    assert customer_app_client.get(f"/api/v1/me/notifications/{mine.pk}/").status_code == 200
    listed = customer_app_client.get("/api/v1/me/notifications/").json()["results"]
    assert [n["id"] for n in listed] == [mine.pk]
