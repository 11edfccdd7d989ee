"""GET /api/v1/fulfillment-options/: ranking, prices, distances, radius, CO2 figures, who may call,
bad input, and a fixed number of queries."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from core.choices import LocationKind
from orders.fulfillment import EARTH_RADIUS_KM, bounding_box, haversine_km
from tests.factories import AssociateProfileFactory, LocationFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/fulfillment-options/"
HOME = (52.370216, 4.895168)  # Dam square, Amsterdam
KM_PER_DEGREE = EARTH_RADIUS_KM * 3.141592653589793 / 180


def point(kind=LocationKind.LOCKER, *, north_km=0.0, east_km=0.0, origin=HOME, **fields):
    """A location this many km north / east of `origin` (east measured along its parallel)."""
    import math

    lat = origin[0] + north_km / KM_PER_DEGREE
    lon = origin[1] + east_km / (KM_PER_DEGREE * math.cos(math.radians(origin[0])))
    lon = (lon + 540) % 360 - 180
    return LocationFactory(kind=kind, latitude=Decimal(f"{lat:.6f}"), longitude=Decimal(f"{lon:.6f}"), **fields)


def ask(client, **params):
    query = {"latitude": HOME[0], "longitude": HOME[1], "order_value": "20.00", **params}
    return client.get(URL, {k: v for k, v in query.items() if v is not None})


def options_of(response):
    assert response.status_code == 200, response.content[:500]
    return response.json()["options"]


def codes(options):
    return [(o["kind"], o["location"]["code"] if o["location"] else None) for o in options]


def test_ranked_24h_lockers_then_lockers_and_points_then_stores_then_home(customer_app_client):
    point(LocationKind.STORE, north_km=0.2, code="STORE")
    point(LocationKind.PUDO, north_km=1.5, code="PUDO")
    point(LocationKind.LOCKER, north_km=0.8, code="LOCKER", open_24h=False)
    point(LocationKind.LOCKER, north_km=9, code="L24-FAR", open_24h=True)
    point(LocationKind.LOCKER, east_km=3, code="L24-NEAR", open_24h=True)
    point(LocationKind.PUDO, north_km=0.5, code="PUDO24", open_24h=True)  # a 24-hour point is no locker

    assert codes(options_of(ask(customer_app_client))) == [
        ("locker", "L24-NEAR"),
        ("locker", "L24-FAR"),
        ("pudo", "PUDO24"),
        ("locker", "LOCKER"),
        ("pudo", "PUDO"),
        ("store_pickup", "STORE"),
        ("home_delivery", None),
    ]


def test_home_delivery_is_offered_alone_when_nothing_is_near(customer_app_client):
    point(LocationKind.LOCKER, north_km=60)
    body = ask(customer_app_client).json()
    assert codes(body["options"]) == [("home_delivery", None)]
    assert body["options"][0]["distance_km"] is None


def test_option_shows_location_distance_price_and_co2(customer_app_client):
    hours = {"mon": [["08:00", "20:00"]]}
    locker = point(
        LocationKind.LOCKER,
        north_km=3.0,
        code="LCK1",
        name="Locker Central",
        address_line1="Stationsplein 1",
        postcode="1012AB",
        open_24h=True,
        opening_hours=hours,
    )
    first = options_of(ask(customer_app_client))[0]
    assert first == {
        "kind": "locker",
        "location": {
            "id": locker.pk,
            "code": "LCK1",
            "name": "Locker Central",
            "address": {
                "line1": "Stationsplein 1",
                "line2": "",
                "postcode": "1012AB",
                "city": "Amsterdam",
                "country": "NL",
            },
            "open_24h": True,
            "opening_hours": hours,
            "time_zone": "Europe/Amsterdam",
        },
        "distance_km": 3.0,
        "price": "0.00",
        "currency": "EUR",
        "co2_grams": 520,  # 40 g van share + 2 x 3 km x 160 g/km x 1/2
    }


def test_distances_are_haversine_rounded_to_one_decimal(customer_app_client):
    point(north_km=1.26, code="A")
    point(east_km=4.44, code="B")
    point(north_km=6.0, east_km=8.0, code="C")  # 10 km on the diagonal (flat enough at this scale)
    distances = {o["location"]["code"]: o["distance_km"] for o in options_of(ask(customer_app_client))[:-1]}
    assert distances == {"A": 1.3, "B": 4.4, "C": 10.0}


def test_co2_walking_distance_counts_no_trip_and_home_delivery_counts_failed_attempts(customer_app_client):
    point(north_km=1.9, code="WALK")
    options = options_of(ask(customer_app_client))
    assert options[0]["co2_grams"] == 40
    assert options[-1]["co2_grams"] == 202  # 180 g per van drop + 12 % repeated drops


@override_settings(ORDERS_FREE_DELIVERY_FROM=Decimal("50.00"), ORDERS_SHIPPING_FEE=Decimal("4.95"))
@pytest.mark.parametrize(
    ("order_value", "price"),
    [("0", "4.95"), ("49.99", "4.95"), ("50.00", "0.00"), ("50", "0.00"), ("120.50", "0.00")],
)
def test_home_delivery_is_free_from_the_threshold(customer_app_client, order_value, price):
    home = options_of(ask(customer_app_client, order_value=order_value))[-1]
    assert (home["kind"], home["price"], home["currency"]) == ("home_delivery", price, "EUR")


@override_settings(ORDERS_FREE_DELIVERY_FROM=Decimal("50.00"))
def test_response_says_from_which_value_delivery_is_free(customer_app_client):
    body = ask(customer_app_client).json()
    assert (body["currency"], body["free_delivery_from"]) == ("EUR", "50.00")


def test_collecting_is_free_below_the_threshold(customer_app_client):
    point(LocationKind.STORE, north_km=1)
    store, home = options_of(ask(customer_app_client, order_value="1.00"))
    assert (store["price"], home["price"]) == ("0.00", "4.95")


def test_radius_cuts_at_the_exact_distance_not_the_box(customer_app_client):
    point(north_km=24.5, code="INSIDE")
    point(north_km=25.5, code="OUTSIDE")
    point(north_km=20, east_km=20, code="CORNER")  # in the bounding box, 28.3 km away
    assert codes(options_of(ask(customer_app_client)))[:-1] == [("locker", "INSIDE")]
    assert codes(options_of(ask(customer_app_client, radius_km="30")))[:-1] == [
        ("locker", "INSIDE"),
        ("locker", "OUTSIDE"),
        ("locker", "CORNER"),
    ]
    assert codes(options_of(ask(customer_app_client, radius_km="5")))[:-1] == []


def test_inactive_locations_and_other_kinds_are_not_offered(customer_app_client):
    point(LocationKind.LOCKER, north_km=1, code="CLOSED", is_active=False)
    for kind in (LocationKind.WAREHOUSE, LocationKind.RETURNS_CENTRE, LocationKind.KIOSK):
        point(kind, north_km=1, code=kind[:12].upper())
    point(LocationKind.PUDO, north_km=2, code="OPEN")
    assert codes(options_of(ask(customer_app_client))) == [("pudo", "OPEN"), ("home_delivery", None)]


def test_limit_applies_per_kind_in_ranking_order(customer_app_client):
    for km in (1, 2, 3):
        point(LocationKind.LOCKER, north_km=km, code=f"L{km}")
        point(LocationKind.PUDO, east_km=km + 0.5, code=f"P{km}")
        point(LocationKind.STORE, north_km=-km, code=f"S{km}")
    point(LocationKind.LOCKER, north_km=20, code="L24", open_24h=True)
    assert codes(options_of(ask(customer_app_client, limit=2))) == [
        ("locker", "L24"),
        ("locker", "L1"),
        ("pudo", "P1"),
        ("pudo", "P2"),
        ("store_pickup", "S1"),
        ("store_pickup", "S2"),
        ("home_delivery", None),
    ]


def test_haversine_wraps_the_antimeridian():
    assert haversine_km(0, 179.9, 0, -179.95) == pytest.approx(0.15 * KM_PER_DEGREE)


def test_antimeridian_and_pole_through_the_api(customer_app_client):
    point(north_km=0, code="FIJI-E", origin=(-17.0, -179.95))
    near_pole = LocationFactory(kind=LocationKind.LOCKER, code="POLE", latitude=Decimal("89.95"), longitude=180)
    fiji = options_of(ask(customer_app_client, latitude="-17.0", longitude="179.95"))
    assert codes(fiji)[:-1] == [("locker", "FIJI-E")]
    assert fiji[0]["distance_km"] == pytest.approx(10.6, abs=0.1)
    arctic = options_of(ask(customer_app_client, latitude="89.9", longitude="0"))
    assert codes(arctic)[:-1] == [("locker", near_pole.code)]
    assert arctic[0]["distance_km"] == pytest.approx(0.15 * KM_PER_DEGREE, abs=0.1)


def test_bounding_box_holds_every_point_of_the_circle():
    """Points on the circle in sixteen directions fall inside the box the query filters on."""
    import math

    from core.models import Location

    for index in range(16):
        bearing = 2 * math.pi * index / 16
        point(north_km=24.99 * math.cos(bearing), east_km=24.99 * math.sin(bearing), code=f"C{index}")
    box = bounding_box(HOME[0], HOME[1], 25)
    assert Location.objects.filter(box).count() == 16


# --- who may call -------------------------------------------------------------------------


def test_anonymous_gets_401(anon_client):
    response = ask(anon_client)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


def test_signed_in_without_role_or_customer_record_gets_403(roleless_client):
    response = ask(roleless_client)
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(
    "client_name",
    [
        "customer_app_client",
        "associate_client",
        "agent_client",
        "manager_client",
        "admin_client_api",
        "integration_client",
    ],
)
def test_customers_and_every_staff_role_may_ask(request, client_name):
    point(north_km=1, code="NEAR")
    assert codes(options_of(ask(request.getfixturevalue(client_name))))[0] == ("locker", "NEAR")


def test_staff_role_requiring_mfa_without_it_gets_403(settings):
    from rest_framework.test import APIClient

    settings.AFTERCARE_MFA_REQUIRED_ROLES = ["manager"]
    client = APIClient()
    client.force_authenticate(AssociateProfileFactory(user__roles=["manager"]).user)
    response = ask(client)
    assert response.status_code == 403
    assert "two-factor" in response.json()["detail"]


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"latitude": None}, "latitude"),
        ({"longitude": None}, "longitude"),
        ({"order_value": None}, "order_value"),
        ({"latitude": ""}, "latitude"),
        ({"latitude": "NaN"}, "latitude"),
        ({"longitude": "nan"}, "longitude"),
        ({"latitude": "Infinity"}, "latitude"),
        ({"latitude": "90.000001"}, "latitude"),
        ({"latitude": "-91"}, "latitude"),
        ({"longitude": "180.5"}, "longitude"),
        ({"longitude": "-181"}, "longitude"),
        ({"latitude": "north"}, "latitude"),
        ({"latitude": "1e400"}, "latitude"),
        ({"latitude": "9" * 2000}, "latitude"),
        ({"order_value": "-0.01"}, "order_value"),
        ({"order_value": "ten"}, "order_value"),
        ({"order_value": "NaN"}, "order_value"),
        ({"order_value": "1.001"}, "order_value"),
        ({"order_value": "99999999999"}, "order_value"),
        ({"currency": "eur"}, "currency"),
        ({"currency": "EURO"}, "currency"),
        ({"currency": "USD"}, "currency"),
        ({"radius_km": "0"}, "radius_km"),
        ({"radius_km": "100.1"}, "radius_km"),
        ({"radius_km": "-5"}, "radius_km"),
        ({"radius_km": "far"}, "radius_km"),
        ({"limit": "0"}, "limit"),
        ({"limit": "21"}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"limit": "2.5"}, "limit"),
        ({"radius": "10"}, "radius"),
    ],
)
def test_bad_input_is_a_400_problem_naming_the_field(customer_app_client, params, field):
    response = ask(customer_app_client, **params)
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "validation"
    assert {error["field"] for error in body["errors"]} == {field}


def test_every_bad_field_is_reported_at_once(customer_app_client):
    response = customer_app_client.get(URL, {"latitude": "100", "order_value": "-1", "limit": "0"})
    assert response.status_code == 400
    fields = sorted(error["field"] for error in response.json()["errors"])
    assert fields == ["latitude", "limit", "longitude", "order_value"]


def test_boundary_values_are_accepted(customer_app_client):
    for params in (
        {"latitude": "90", "longitude": "180"},
        {"latitude": "-90", "longitude": "-180"},
        {"radius_km": "100", "limit": "20", "order_value": "0"},
        {"radius_km": "0.1", "limit": "1", "currency": "EUR"},
        {"latitude": "52.37021612345678901"},
    ):
        assert ask(customer_app_client, **params).status_code == 200, params


# --- queries ------------------------------------------------------------------------------


def _queries(client):
    ask(client, limit=20)  # warm up: the caller's roles are read once per request user
    with CaptureQueriesContext(connection) as ctx:
        response = ask(client, limit=20)
    assert response.status_code == 200
    return len(ctx), len(response.json()["options"]), ctx


@pytest.mark.parametrize("client_name", ["customer_app_client", "associate_client"])
def test_constant_query_count_whatever_the_number_of_points(request, client_name):
    client = request.getfixturevalue(client_name)
    point(LocationKind.LOCKER, north_km=1)
    few, shown_few, _ = _queries(client)
    for km in range(2, 20):
        point(LocationKind.LOCKER, north_km=km, open_24h=km % 2 == 0)
        point(LocationKind.PUDO, east_km=km)
        point(LocationKind.STORE, north_km=-km)
    many, shown_many, ctx = _queries(client)
    assert shown_many == shown_few + 18 * 3  # (the associate's home store is on the map too)
    if few != many:
        pytest.fail(f"{few} queries for 1 point, {many} for 55:\n" + "\n".join(q["sql"] for q in ctx.captured_queries))
    assert many <= 4


def test_result_is_bounded_by_the_limit(customer_app_client):
    for index in range(30):
        point(LocationKind.LOCKER, north_km=0.1 * (index + 1), open_24h=index % 2 == 0)
    options = options_of(ask(customer_app_client, limit=3))
    assert [o["kind"] for o in options] == ["locker"] * 3 + ["home_delivery"]
    assert all(o["location"]["open_24h"] for o in options[:3])
