"""The pickups API: staff `pickups` (list, detail with suggestions, ready, hand-over, cancel) and
the customer's `me/pickups`. Who may call what, that staff never see a code, filters, bad input,
query counts and the rate limit on the code look-up."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.throttling import SimpleRateThrottle

from core.models import Inventory, Notification, StateTransition
from orders.choices import FulfilmentMethod, PickupStatus
from orders.models import Charge, OrderLine, Pickup, PickupLine
from orders.services.pickups import pickup_hand_over
from tests.factories import CustomerFactory, InventoryFactory, LocationFactory, ProductFactory, make_order, make_pickup
from tests.matrix import assert_allowed_or_refused

pytestmark = pytest.mark.django_db

ROLES = ["anon", "roleless", "customer", "integration", "associate", "agent", "manager", "admin"]
STAFF = {"associate", "agent", "manager", "admin"}
AT_HOME = {"associate", "manager", "admin"}  # the agent's home is another location
MANAGERS = {"manager", "admin"}


def _post(client, url, data=None, **extra):
    return client.post(url, data, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid4()), **extra)


def _reload(pickup):
    return Pickup.objects.get(pk=pickup.pk)


@pytest.fixture
def home(associate):
    return associate.associate.home_location


@pytest.fixture
def objects(home, customer):
    waiting = make_order(customer=customer, fulfilment=FulfilmentMethod.PICKUP)
    InventoryFactory(product=waiting.lines.get().product, location=home)
    return {
        "home": home,
        "at_home": make_pickup(location=home, customer=customer),
        "elsewhere": make_pickup(customer=customer),
        "waiting": waiting,
    }


CASES = [
    ("list", "get", lambda o: "/api/v1/pickups/", None, STAFF),
    ("detail", "get", lambda o: f"/api/v1/pickups/{o['at_home'].pk}/", None, STAFF),
    (
        "make ready at home",
        "post",
        lambda o: "/api/v1/pickups/",
        lambda o: {"order": o["waiting"].pk, "location": o["home"].pk},
        AT_HOME,
    ),
    (
        "hand over at home",
        "post",
        lambda o: f"/api/v1/pickups/{o['at_home'].pk}/hand-over/",
        lambda o: {"code": o["at_home"].code},
        AT_HOME,
    ),
    (
        "hand over elsewhere",
        "post",
        lambda o: f"/api/v1/pickups/{o['elsewhere'].pk}/hand-over/",
        lambda o: {"code": o["elsewhere"].code},
        MANAGERS,
    ),
    (
        "cancel",
        "post",
        lambda o: f"/api/v1/pickups/{o['elsewhere'].pk}/cancel/",
        lambda o: {"reason": "Customer asked for delivery"},
        STAFF,
    ),
    ("my pickups", "get", lambda o: "/api/v1/me/pickups/", None, {"customer"}),
    ("my pickup", "get", lambda o: f"/api/v1/me/pickups/{o['at_home'].pk}/", None, {"customer"}),
]


def _everything():
    """Every row a denied request could have touched."""
    return [
        list(model.objects.order_by("pk").values())
        for model in (Pickup, PickupLine, Inventory, OrderLine, Charge, StateTransition, Notification)
    ]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_authorisation_matrix(case, role, clients, objects):
    name, method, url, payload, allowed = case
    before = _everything()

    if method == "post":
        response = _post(clients[role], url(objects), payload(objects))
    else:
        response = clients[role].get(url(objects))

    assert_allowed_or_refused(response, name=name, role=role, allowed=allowed, before=before, after=_everything)


# --- the code: the customer's, never staff's --------------------------------------------------


def test_staff_responses_never_carry_the_code(manager_client, customer):
    store = LocationFactory()
    pickup = make_pickup(location=store, customer=customer)
    order = make_order(customer=customer, fulfilment=FulfilmentMethod.PICKUP)
    InventoryFactory(product=order.lines.get().product, location=store)

    created = _post(manager_client, "/api/v1/pickups/", {"order": order.pk, "location": store.pk})
    assert created.status_code == 201, created.content
    new_code = Pickup.objects.get(pk=created.json()["id"]).code
    responses = [
        created,
        manager_client.get("/api/v1/pickups/"),
        manager_client.get(f"/api/v1/pickups/{pickup.pk}/"),
        manager_client.get("/api/v1/pickups/", {"search": pickup.code}),
        _post(manager_client, f"/api/v1/pickups/{pickup.pk}/hand-over/", {"code": pickup.code}),
        _post(manager_client, f"/api/v1/pickups/{created.json()['id']}/cancel/", {"reason": "Damaged"}),
    ]

    for response in responses:
        assert response.status_code in (200, 201), response.content
        text = response.content.decode()
        for code in (pickup.code, new_code):
            assert code not in text and code.replace("-", "") not in text
        body = response.json()
        for row in body.get("results", [body]):
            assert "code" not in row
    assert responses[3].json()["results"] == []  # the code is not something staff can search by


def test_my_pickups_show_the_code_and_where_to_collect_to_their_owner_only(customer_app_client, customer):
    locker = LocationFactory(name="Station locker", kind="locker", open_24h=True, phone="+31201234567")
    mine = make_pickup(location=locker, customer=customer)
    theirs = make_pickup(location=locker, customer=CustomerFactory())

    listed = customer_app_client.get("/api/v1/me/pickups/")
    detail = customer_app_client.get(f"/api/v1/me/pickups/{mine.pk}/")
    other = customer_app_client.get(f"/api/v1/me/pickups/{theirs.pk}/")

    assert [row["id"] for row in listed.json()["results"]] == [mine.pk]
    body = detail.json()
    assert body["code"] == mine.code
    assert body["order_number"] == mine.order.number
    assert body["location"]["name"] == "Station locker"
    assert body["location"]["open_24h"] is True
    assert body["location"]["address_line1"] == locker.address_line1
    assert body["lines"][0]["quantity"] == 1
    assert other.status_code == 404
    assert theirs.code not in listed.content.decode() + other.content.decode()


# --- the staff endpoints ----------------------------------------------------------------------


def test_create_makes_the_pickup_ready_and_reserves_the_stock(associate_client, home):
    sofa, lamp = ProductFactory(), ProductFactory()
    order = make_order(fulfilment=FulfilmentMethod.PICKUP, lines=[(sofa, 1, "300"), (lamp, 2, "20")])
    for product in (sofa, lamp):
        InventoryFactory(product=product, location=home, on_hand=4)
    lamp_line = order.lines.get(product=lamp)

    response = _post(
        associate_client,
        "/api/v1/pickups/",
        {"order": order.pk, "location": home.pk, "lines": [{"order_line": lamp_line.pk, "quantity": 2}]},
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert response["Location"] == f"/api/v1/pickups/{body['id']}/"
    assert (body["status"], body["items"], body["order_number"]) == ("ready", 2, order.number)
    assert [(line["product"]["id"], line["quantity"]) for line in body["lines"]] == [(lamp.pk, 2)]
    assert Inventory.objects.get(product=lamp, location=home).reserved == 2
    assert Inventory.objects.get(product=sofa, location=home).reserved == 0


def test_create_refusals_are_problems_that_say_why(manager_client, home):
    delivery = make_order(fulfilment=FulfilmentMethod.DELIVERY)
    unstocked = make_order(fulfilment=FulfilmentMethod.PICKUP)

    for order, code in ((delivery, "not_a_pickup_order"), (unstocked, "not_stocked_here")):
        response = _post(manager_client, "/api/v1/pickups/", {"order": order.pk, "location": home.pk})
        assert (response.status_code, response.json()["code"]) == (422, code)
        assert response["Content-Type"] == "application/problem+json"
    assert not Pickup.objects.exists()


def test_detail_shows_the_lines_and_what_to_suggest(associate_client, home):
    sofa = ProductFactory(name="Sofa", installable=True)
    cushion = ProductFactory(name="Cushion", category=sofa.category, price=Decimal("25.00"))
    InventoryFactory(product=cushion, location=home, on_hand=3)
    pickup = make_pickup(location=home, lines=[(sofa, 1, "900")])

    body = associate_client.get(f"/api/v1/pickups/{pickup.pk}/").json()

    assert [(line["product"]["name"], line["quantity"]) for line in body["lines"]] == [("Sofa", 1)]
    assert body["suggestions"]["products"] == [
        {
            "id": cushion.pk,
            "sku": cushion.sku,
            "name": "Cushion",
            "category": cushion.category.slug,
            "price": "25.00",
            "currency": "EUR",
            "available": 3,
            "reason": "same_category",
        }
    ]
    assert body["suggestions"]["services"] == [
        {
            "service": "installation",
            "title": "Book installation: Sofa",
            "product": {"id": sofa.pk, "sku": sofa.sku, "name": "Sofa"},
        }
    ]


def test_hand_over_with_the_right_code_collects_the_pickup(associate_client, associate, home):
    pickup = make_pickup(location=home)

    response = _post(associate_client, f"/api/v1/pickups/{pickup.pk}/hand-over/", {"code": pickup.code.lower()})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "collected"
    assert body["collected_by"]["id"] == associate.pk
    assert Inventory.objects.get(location=home).on_hand == 9


def test_a_wrong_code_is_422_and_changes_nothing(associate_client, home):
    pickup = make_pickup(location=home)
    before = _everything()

    response = _post(associate_client, f"/api/v1/pickups/{pickup.pk}/hand-over/", {"code": "AAAA-BBBB-CCCCC"})

    assert (response.status_code, response.json()["code"]) == (422, "wrong_pickup_code")
    assert response["Content-Type"] == "application/problem+json"
    assert _everything() == before


def test_an_expired_pickup_is_a_409_naming_the_allowed_transitions(associate_client, home):
    pickup = make_pickup(location=home)
    Pickup.objects.filter(pk=pickup.pk).update(status=PickupStatus.EXPIRED)

    response = _post(associate_client, f"/api/v1/pickups/{pickup.pk}/hand-over/", {"code": pickup.code})

    assert response.status_code == 409
    body = response.json()
    assert (body["code"], body["allowed"], body["state"]) == ("transition_not_allowed", [], "expired")
    assert "allowed: none" in body["detail"]


def test_an_associate_cannot_hand_over_at_another_store(associate_client):
    pickup = make_pickup()
    before = _everything()

    response = _post(associate_client, f"/api/v1/pickups/{pickup.pk}/hand-over/", {"code": pickup.code})

    assert response.status_code == 403
    assert "home location" in response.json()["detail"]
    assert _everything() == before


def test_hand_over_needs_an_idempotency_key_because_it_may_take_payment(manager_client):
    pickup = make_pickup()

    response = manager_client.post(f"/api/v1/pickups/{pickup.pk}/hand-over/", {"code": pickup.code}, format="json")

    assert response.status_code == 400
    assert _reload(pickup).status == PickupStatus.READY


def test_hand_over_is_rate_limited_per_caller(monkeypatch, manager_client, agent_client):
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {**SimpleRateThrottle.THROTTLE_RATES, "secret_lookup": "2/min"}
    )
    pickup = make_pickup()
    url = f"/api/v1/pickups/{pickup.pk}/hand-over/"

    statuses = [_post(manager_client, url, {"code": secret}).status_code for secret in ("A", "B", pickup.code)]

    assert statuses == [422, 422, 429]
    limited = _post(manager_client, url, {"code": pickup.code})
    assert limited["Retry-After"] and limited.json()["code"] == "throttled"
    assert _reload(pickup).status == PickupStatus.READY  # the right code, too late, did nothing
    assert manager_client.get("/api/v1/pickups/").status_code == 200  # other endpoints are not limited
    assert _post(agent_client, url, {"code": "C"}).status_code != 429  # per caller


def test_cancel_gives_the_stock_back(agent_client):
    pickup = make_pickup()

    response = _post(agent_client, f"/api/v1/pickups/{pickup.pk}/cancel/", {"reason": "Goods damaged"})

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"
    assert Inventory.objects.get().reserved == 0
    assert _post(agent_client, f"/api/v1/pickups/{pickup.pk}/cancel/", {"reason": "again"}).status_code == 409


# --- filters -----------------------------------------------------------------------------------


def _ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_list_filters_by_location_and_status(agent_client):
    store, locker = LocationFactory(), LocationFactory(kind="locker")
    at_store, at_locker = make_pickup(location=store), make_pickup(location=locker)
    cancelled = make_pickup(location=store)
    Pickup.objects.filter(pk=cancelled.pk).update(status=PickupStatus.CANCELLED)

    assert _ids(agent_client.get("/api/v1/pickups/", {"location": store.pk})) == {at_store.pk, cancelled.pk}
    assert _ids(agent_client.get("/api/v1/pickups/", {"location_code": locker.code})) == {at_locker.pk}
    assert _ids(agent_client.get("/api/v1/pickups/", {"status": "ready", "location": store.pk})) == {at_store.pk}
    assert _ids(agent_client.get("/api/v1/pickups/", {"order_number": at_locker.order.number})) == {at_locker.pk}


def test_due_today_follows_each_locations_clock(agent_client, monkeypatch):
    now = datetime(2026, 3, 10, 11, 30, tzinfo=UTC)  # 11 March in Kiritimati (UTC+14), 10 March in Pago Pago (UTC-11)
    east, west = LocationFactory(time_zone="Pacific/Kiritimati"), LocationFactory(time_zone="Pacific/Pago_Pago")
    due_east, due_west, not_due = make_pickup(location=east), make_pickup(location=west), make_pickup(location=east)
    Pickup.objects.filter(pk=due_east.pk).update(expires_at=datetime(2026, 3, 11, 6, tzinfo=UTC))
    Pickup.objects.filter(pk=due_west.pk).update(expires_at=datetime(2026, 3, 11, 7, tzinfo=UTC))
    Pickup.objects.filter(pk=not_due.pk).update(expires_at=datetime(2026, 3, 10, 6, tzinfo=UTC))  # today in UTC only
    monkeypatch.setattr(timezone, "now", lambda: now)

    assert _ids(agent_client.get("/api/v1/pickups/", {"due_today": "true"})) == {due_east.pk, due_west.pk}
    assert _ids(agent_client.get("/api/v1/pickups/", {"due_today": "false"})) == {not_due.pk}
    assert _ids(agent_client.get("/api/v1/pickups/", {"due_today": "true", "location": west.pk})) == {due_west.pk}


# --- bad input ---------------------------------------------------------------------------------

HUGE = "x" * 100_000


@pytest.fixture
def ready(manager):
    return make_pickup()


def _create_payloads(o):
    order, location = o["waiting"].pk, o["home"].pk
    return [
        {},
        {"order": "first", "location": location},
        {"order": order, "location": {"id": location}},
        {"order": 10**30, "location": location},
        {"order": -1, "location": location},
        {"order": order, "location": 987654},
        {"order": order, "location": location, "lines": "all"},
        {"order": order, "location": location, "lines": []},
        {"order": order, "location": location, "lines": [{"order_line": "a", "quantity": 1}]},
        {"order": order, "location": location, "lines": [{"order_line": 1, "quantity": 0}]},
        {"order": order, "location": location, "lines": [{"order_line": 1, "quantity": 10**12}]},
        {"order": order, "location": location, "lines": [{"order_line": 1, "quantity": 1, "colour": "red"}]},
        {"order": order, "location": location, "lines": [{"order_line": 1}] * 201},
        {"order": order, "location": location, "code": "MINE-MINE-MINE1"},
        [1, 2],
        HUGE,
    ]


@pytest.mark.parametrize("index", range(16))
def test_bad_create_input_is_a_4xx_problem_and_writes_nothing(index, manager_client, objects):
    payload = _create_payloads(objects)[index]
    before = _everything()

    response = _post(manager_client, "/api/v1/pickups/", payload)

    assert 400 <= response.status_code < 500, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert _everything() == before


@pytest.mark.parametrize(
    ("action", "payload"),
    [
        ("hand-over", {}),
        ("hand-over", {"code": None}),
        ("hand-over", {"code": ["ABCD"]}),
        ("hand-over", {"code": HUGE}),
        ("hand-over", {"code": "ÄÖÜ-\x00-☃"}),
        ("hand-over", {"code": "ABCD", "by": 1}),
        ("cancel", {}),
        ("cancel", {"reason": ""}),
        ("cancel", {"reason": "   "}),
        ("cancel", {"reason": HUGE}),
        ("cancel", {"reason": {"why": "x"}}),
    ],
)
def test_bad_action_input_is_a_4xx_problem_and_changes_nothing(action, payload, manager_client, ready):
    before = _everything()

    response = _post(manager_client, f"/api/v1/pickups/{ready.pk}/{action}/", payload)

    assert 400 <= response.status_code < 500, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert _everything() == before


def test_malformed_json_and_unknown_pickups_are_4xx(manager_client, ready):
    malformed = manager_client.post(
        f"/api/v1/pickups/{ready.pk}/hand-over/",
        data="{not json",
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k1",
    )
    missing = _post(manager_client, "/api/v1/pickups/999999/hand-over/", {"code": ready.code})
    huge_id = manager_client.get(f"/api/v1/pickups/{10**30}/")

    assert malformed.status_code == 400 and malformed["Content-Type"] == "application/problem+json"
    assert missing.status_code == 404
    assert huge_id.status_code == 404
    assert _reload(ready).status == PickupStatus.READY


@pytest.mark.parametrize(
    "params",
    [{"location": "x"}, {"location": 10**30}, {"status": "lost"}, {"due_today": "perhaps"}, {"customer": "me"}],
)
def test_bad_filters_are_400_problems(params, agent_client, ready):
    response = agent_client.get("/api/v1/pickups/", params)

    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"


def test_bad_filters_on_my_pickups_are_400_problems(customer_app_client):
    response = customer_app_client.get("/api/v1/me/pickups/", {"status": "lost"})

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"


# --- query counts ------------------------------------------------------------------------------

ROWS = 12


def _count(client, url, params):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200, response.content[:300]
    return len(ctx), ctx


def _assert_constant(client, url, extra=None):
    extra = extra or {}
    _count(client, url, {"page_size": 1, **extra})  # warm up the caller's permissions
    small, _ = _count(client, url, {"page_size": 1, **extra})
    large, ctx = _count(client, url, {"page_size": ROWS, **extra})
    if small != large:
        sql = "\n".join(q["sql"] for q in ctx.captured_queries)
        pytest.fail(f"{url}: {small} queries for 1 row, {large} for {ROWS}:\n{sql}")
    return large


@pytest.fixture
def many(customer, manager):
    stores = [LocationFactory(), LocationFactory(time_zone="America/New_York")]
    for i in range(ROWS):
        pickup = make_pickup(
            location=stores[i % 2],
            customer=customer if i % 3 else CustomerFactory(),
            lines=[(ProductFactory(), 1, "10"), (ProductFactory(), 2, "5")],
        )
        if i % 4 == 0:
            pickup_hand_over(actor=manager, pickup=pickup, code=pickup.code)
    return customer


@pytest.mark.parametrize("params", [{}, {"due_today": "true"}, {"status": "ready"}, {"search": "P"}])
def test_staff_list_runs_constant_queries(params, many, agent_client):
    assert _assert_constant(agent_client, "/api/v1/pickups/", params) <= 6


def test_my_list_runs_constant_queries(many, customer_app_client):
    assert _assert_constant(customer_app_client, "/api/v1/me/pickups/") <= 6


def test_list_pages_with_a_cursor_soonest_deadline_first(many, agent_client):
    first = agent_client.get("/api/v1/pickups/", {"page_size": 5}).json()
    second = agent_client.get(first["next"]).json()

    rows = first["results"] + second["results"]
    assert len({row["id"] for row in rows}) == 10
    deadlines = [row["expires_at"] for row in rows]
    assert deadlines == sorted(deadlines)
    assert json.dumps(rows).count('"items": 3') == 10  # two lines: 1 + 2 units
    assert timedelta(0) < datetime.fromisoformat(rows[0]["expires_at"].replace("Z", "+00:00")) - timezone.now()
