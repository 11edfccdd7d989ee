"""Shipments: what may ship, the capture of what shipped, the customer's message, and the staff
and customer endpoints (permissions, filters, query counts, bad input)."""

import threading
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.errors import Conflict, RuleViolation
from core.models import Notification, Touchpoint
from orders.choices import ChargeKind, OrderStatus
from orders.models import Charge, OrderLine, Shipment, ShipmentLine
from orders.services.charges import ledger_of
from orders.services.shipments import shipment_create
from orders.services.tracking import tracking_event_apply
from tests.factories import (
    CarrierFactory,
    CustomerFactory,
    LocationFactory,
    ProductFactory,
    UserFactory,
    make_order,
    make_shipment,
)
from tests.matrix import assert_allowed_or_refused

pytestmark = pytest.mark.django_db


def _ship(order, lines, **fields):
    return make_shipment(order=order, lines=lines, **fields)


def _captures(order) -> list[Decimal]:
    return list(
        Charge.objects.filter(order=order, kind=ChargeKind.CAPTURE).order_by("id").values_list("amount", flat=True)
    )


# --- shipment_create ----------------------------------------------------------------------------


def test_a_partial_shipment_captures_the_value_of_what_shipped():
    order = make_order(lines=[(ProductFactory(), 2, "100.00"), (ProductFactory(), 1, "50.00")])
    first, _ = order.lines.order_by("id")

    shipment = _ship(order, [(first, 1)])

    assert _captures(order) == [Decimal("100.00")]
    assert Charge.objects.get(kind=ChargeKind.CAPTURE).shipment == shipment
    ledger = ledger_of(order)
    assert (ledger.past, ledger.pending, ledger.hold) == (Decimal("100.00"), Decimal("150.00"), Decimal("150.00"))
    order.refresh_from_db()
    assert order.status == OrderStatus.PARTIALLY_SHIPPED
    assert OrderLine.objects.get(pk=first.pk).quantity_shipped == 1


def test_partial_shipments_of_a_line_add_up_to_its_amount():
    order = make_order(
        lines=[
            {"product": ProductFactory(), "quantity": 3, "unit_price": Decimal("10.00"), "discount": Decimal("0.01")}
        ]
    )
    line = order.lines.get()
    for _ in range(3):
        _ship(order, [(line, 1)])
    assert _captures(order) == [Decimal("10.00"), Decimal("9.99"), Decimal("10.00")]
    assert ledger_of(order).hold == 0


def test_the_last_shipment_captures_the_rest_of_the_hold():
    """A voucher paid part of the order up front: the hold is smaller than the goods' value, so the
    last parcel takes whatever is left of it, not its own value."""
    order = make_order(
        lines=[(ProductFactory(), 3, "100.00")],
        payments=[
            {"kind": "voucher_redemption", "amount": Decimal("50.00")},
            {"kind": "authorisation", "amount": Decimal("250.00")},
        ],
    )
    line = order.lines.get()
    _ship(order, [(line, 1)])
    _ship(order, [(line, 1)])
    _ship(order, [(line, 1)])

    assert _captures(order) == [Decimal("100.00"), Decimal("100.00"), Decimal("50.00")]
    ledger = ledger_of(order)
    assert (ledger.past, ledger.pending, ledger.hold) == (Decimal("300.00"), Decimal("0.00"), Decimal("0.00"))
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED


def test_an_order_paid_at_the_till_captures_nothing_when_it_ships():
    order = make_order(lines=[(ProductFactory(), 1, "80.00")], payments=[{"kind": "capture", "amount": Decimal("80")}])
    before = Charge.objects.filter(order=order).count()
    _ship(order, [(order.lines.get(), 1)])
    assert Charge.objects.filter(order=order).count() == before


def test_a_line_ships_at_most_what_is_neither_cancelled_nor_shipped():
    order = make_order(lines=[(ProductFactory(name="Chair"), 4, "50.00")])
    line = order.lines.get()
    OrderLine.objects.filter(pk=line.pk).update(quantity_cancelled=1)
    _ship(order, [(line, 2)])

    with pytest.raises(RuleViolation) as error:
        _ship(order, [(line, 2)])

    assert f"Chair (line {line.pk}): 1 unit(s) left to ship" in error.value.detail
    assert error.value.extra["line"] == line.pk
    assert Shipment.objects.count() == 1
    assert OrderLine.objects.get(pk=line.pk).quantity_shipped == 2
    assert _captures(order) == [Decimal("100.00")]


def test_a_line_of_another_order_is_refused():
    order, other = make_order(), make_order()
    stranger = other.lines.get()
    with pytest.raises(RuleViolation, match=f"Line {stranger.pk} is not on order {order.number}"):
        _ship(order, [(stranger, 1)])
    assert not Shipment.objects.exists()


@pytest.mark.parametrize(("case", "code"), [("none", "no_lines"), ("twice", "line_twice"), ("zero", "quantity")])
def test_lines_must_be_named_once_with_a_positive_quantity(case, code):
    order = make_order(lines=[(ProductFactory(), 2, "10.00")])
    line = order.lines.get()
    lines = {"none": [], "twice": [(line, 1), {"order_line": line.pk, "quantity": 1}], "zero": [(line, 0)]}[case]
    with pytest.raises(RuleViolation) as error:
        _ship(order, lines)
    assert error.value.code == code
    assert not Shipment.objects.exists()


def test_a_tracking_number_is_unique_per_carrier():
    carrier = CarrierFactory()
    _ship(make_order(), None, carrier=carrier, tracking_number="3SABC1")
    with pytest.raises(Conflict) as error:
        _ship(make_order(), None, carrier=carrier, tracking_number="3SABC1")
    assert error.value.status == 409
    assert _ship(make_order(), None, carrier=CarrierFactory(), tracking_number="3SABC1")  # another carrier's


def test_an_inactive_carrier_takes_no_parcels():
    with pytest.raises(RuleViolation, match="not an active carrier"):
        _ship(make_order(), None, carrier=CarrierFactory(is_active=False))


def test_shipping_writes_a_delivery_touchpoint_and_tells_the_customer_what_is_coming():
    carrier = CarrierFactory(name="PostNL", tracking_url="https://track.example/{tracking_number}")
    order = make_order(lines=[(ProductFactory(name="Sofa"), 2, "300.00"), (ProductFactory(name="Lamp"), 1, "40.00")])
    eta = datetime(2026, 11, 25, 23, 30, tzinfo=UTC)  # already the 26th in Amsterdam

    shipment = _ship(order, None, carrier=carrier, tracking_number="3SXYZ9", estimated_delivery=eta)

    touchpoint = Touchpoint.objects.get(kind="delivery")
    assert (touchpoint.subject_id, touchpoint.order_number) == (shipment.pk, order.number)
    assert touchpoint.summary == "Shipped 2 × Sofa, 1 × Lamp with PostNL, tracking 3SXYZ9"
    message = Notification.objects.get(event="order_shipped")
    assert message.dedupe_key.startswith(f"order-shipped:{shipment.number}")
    assert message.order_number == order.number
    for part in ("2 × Sofa, 1 × Lamp", "PostNL", "3SXYZ9", "https://track.example/3SXYZ9", "Thursday 26 November 2026"):
        assert part in message.body


def test_the_timeline_names_the_associate_who_shipped_but_not_a_system_account(associate):
    by_hand = _ship(make_order(), None, actor=associate)
    pushed = _ship(make_order(), None, actor=UserFactory(roles=["integration"]))
    assert Touchpoint.objects.get(subject_id=by_hand.pk, kind="delivery").associate == associate
    assert Touchpoint.objects.get(subject_id=pushed.pk, kind="delivery").associate is None


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="real concurrent writers need PostgreSQL")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_warehouses_shipping_the_last_unit_at_once_ship_and_capture_it_once():
    order = make_order(lines=[(ProductFactory(), 1, "120.00")])
    line, carrier = order.lines.get(), CarrierFactory()
    barrier = threading.Barrier(4)
    outcomes = []

    def ship(number):
        try:
            barrier.wait()
            shipment_create(
                actor=None, order=order, carrier=carrier, tracking_number=f"RACE{number}", lines=[(line, 1)]
            )
            outcomes.append("shipped")
        except RuleViolation:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=ship, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(outcomes) == ["refused", "refused", "refused", "shipped"]
    assert OrderLine.objects.get(pk=line.pk).quantity_shipped == 1
    assert _captures(order) == [Decimal("120.00")]


# --- staff API ----------------------------------------------------------------------------------


def _payload(order, carrier, **extra):
    return {
        "order": order.pk,
        "carrier": carrier.code,
        "tracking_number": "3SAPI1",
        "lines": [{"order_line": line.pk, "quantity": line.quantity} for line in order.lines.all()],
        **extra,
    }


def _post(client, payload, key="k-1"):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post("/api/v1/shipments/", payload, format="json", **headers)


def test_a_system_creates_a_shipment_and_reads_it_back(integration_client):
    order = make_order(lines=[(ProductFactory(sku="SOFA-1"), 1, "300.00")])
    carrier = CarrierFactory()

    response = _post(integration_client, _payload(order, carrier, service_level="express"))

    assert response.status_code == 201, response.content
    body = response.json()
    assert response["Location"] == f"/api/v1/shipments/{body['id']}/"
    assert (body["order_number"], body["carrier"], body["service_level"]) == (order.number, carrier.code, "express")
    assert (body["captured"], body["currency"]) == ("300.00", "EUR")
    assert body["lines"][0]["product"]["sku"] == "SOFA-1"
    assert body["status"] == "info_received" and body["events"] == []


def test_creating_a_shipment_moves_money_so_it_needs_an_idempotency_key(integration_client):
    order = make_order()
    response = _post(integration_client, _payload(order, CarrierFactory()), key=None)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert not Shipment.objects.exists()


def test_a_retried_create_with_the_same_key_ships_once(integration_client):
    order, carrier = make_order(), CarrierFactory()
    first = _post(integration_client, _payload(order, carrier))
    again = _post(integration_client, _payload(order, carrier))
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json()["id"] == again.json()["id"]
    assert Shipment.objects.count() == 1


def test_shipping_more_than_is_left_is_a_422_naming_the_line(integration_client):
    order = make_order(lines=[(ProductFactory(name="Chair"), 1, "50.00")])
    payload = _payload(order, CarrierFactory())
    payload["lines"][0]["quantity"] = 2
    response = _post(integration_client, payload)
    assert response.status_code == 422
    assert "Chair" in response.json()["detail"] and response.json()["line"] == order.lines.get().pk


def test_a_known_tracking_number_is_a_409(integration_client):
    shipment = make_shipment()
    payload = _payload(make_order(), shipment.carrier, tracking_number=shipment.tracking_number)
    response = _post(integration_client, payload)
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"


BAD_CREATES = {
    "order of the wrong type": {"order": "R-1"},
    "order out of range": {"order": 2**70},
    "unknown order": {"order": 10**12},
    "unknown carrier": {"carrier": "pigeon"},
    "NUL in carrier": {"carrier": "a\x00b"},
    "empty lines": {"lines": []},
    "lines not a list": {"lines": "all"},
    "line quantity text": {"lines": [{"order_line": 1, "quantity": "two"}]},
    "line id out of range": {"lines": [{"order_line": 2**64, "quantity": 1}]},
    "unknown field": {"colour": "red"},
    "huge tracking number": {"tracking_number": "x" * 100_000},
    "naive nonsense date": {"estimated_delivery": "soon"},
    "unknown pickup point": {"pickup_location": 10**12},
    "unknown service level": {"service_level": "teleport"},
}


@pytest.mark.parametrize("bad", BAD_CREATES.values(), ids=BAD_CREATES.keys())
def test_bad_input_to_create_is_a_problem_not_a_500(bad, integration_client):
    order = make_order()
    response = _post(integration_client, {**_payload(order, CarrierFactory()), **bad})
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"]
    assert not Shipment.objects.exists()


def test_malformed_json_to_create_is_a_400(integration_client):
    response = integration_client.post(
        "/api/v1/shipments/", "{not json", content_type="application/json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"


def test_the_list_filters_by_order_status_carrier_and_tracking_number(agent_client):
    dhl = CarrierFactory(code="dhl")
    order = make_order()
    mine = make_shipment(order=order, carrier=dhl, tracking_number="JJD01")
    other = make_shipment(tracking_number="JJD02")
    tracking_event_apply(
        carrier=other.carrier,
        event_id="e1",
        tracking_number="JJD02",
        status="in_transit",
        occurred_at=datetime(2026, 11, 20, tzinfo=UTC),
    )

    def ids(**params):
        response = agent_client.get("/api/v1/shipments/", params)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert set(ids()) == {mine.pk, other.pk}
    assert ids(order=order.pk) == [mine.pk]
    assert ids(carrier="dhl") == [mine.pk]
    assert ids(status="in_transit") == [other.pk]
    assert ids(tracking_number="JJD01") == [mine.pk]
    assert agent_client.get("/api/v1/shipments/", {"status": "lost"}).status_code == 400
    assert agent_client.get("/api/v1/shipments/", {"order": "x"}).status_code == 400


def _events(shipment, count):
    for i in range(count):
        tracking_event_apply(
            carrier=shipment.carrier,
            event_id=f"{shipment.pk}-{i}",
            tracking_number=shipment.tracking_number,
            status="in_transit",
            occurred_at=datetime(2026, 11, 20, 0, i, tzinfo=UTC),
            place=f"Hub {i}",
        )


def test_the_detail_shows_the_newest_tracking_events_first(associate_client):
    shipment = make_shipment()
    _events(shipment, 25)
    body = associate_client.get(f"/api/v1/shipments/{shipment.pk}/").json()
    assert len(body["events"]) == 20
    assert [e["place"] for e in body["events"][:2]] == ["Hub 24", "Hub 23"]
    assert body["last_event_at"] == "2026-11-20T00:24:00Z"


def test_the_events_endpoint_pages_through_every_event_newest_first(associate_client):
    shipment = make_shipment()
    _events(shipment, 5)
    page = associate_client.get(f"/api/v1/shipments/{shipment.pk}/events/", {"page_size": 3}).json()
    assert [e["place"] for e in page["results"]] == ["Hub 4", "Hub 3", "Hub 2"]
    rest = associate_client.get(page["next"]).json()
    assert [e["place"] for e in rest["results"]] == ["Hub 1", "Hub 0"] and rest["next"] is None
    assert associate_client.get("/api/v1/shipments/999999/events/").status_code == 404


# --- the customer's own shipments --------------------------------------------------------------


def test_a_customer_sees_only_their_own_shipments(customer_app_client, customer):
    kiosk = LocationFactory(name="Kiosk Centraal")
    mine = make_shipment(order=make_order(customer=customer), pickup_location=kiosk)
    theirs = make_shipment(order=make_order(customer=CustomerFactory()))
    _events(mine, 2)

    listed = customer_app_client.get("/api/v1/me/shipments/").json()["results"]
    assert [row["id"] for row in listed] == [mine.pk]
    assert listed[0]["pickup_point"]["name"] == "Kiosk Centraal"
    detail = customer_app_client.get(f"/api/v1/me/shipments/{mine.pk}/").json()
    assert [e["place"] for e in detail["events"]] == ["Hub 1", "Hub 0"]
    assert "order" not in detail and "event_id" not in detail["events"][0]
    assert customer_app_client.get(f"/api/v1/me/shipments/{theirs.pk}/").status_code == 404


def test_customers_cannot_create_shipments_through_their_scope(customer_app_client, customer):
    order = make_order(customer=customer)
    response = customer_app_client.post("/api/v1/me/shipments/", _payload(order, CarrierFactory()), format="json")
    assert response.status_code == 405
    assert not Shipment.objects.exists()


# --- permissions --------------------------------------------------------------------------------

ROLES = ["anon", "roleless", "customer", "associate", "agent", "manager", "admin", "integration"]
VIEWERS = {"associate", "agent", "manager", "admin", "integration"}


@pytest.fixture
def objects(customer):
    return {"shipment": make_shipment(order=make_order(customer=customer)), "order": make_order()}


CASES = [
    ("shipments list", "get", lambda o: "/api/v1/shipments/", None, VIEWERS),
    ("shipment detail", "get", lambda o: f"/api/v1/shipments/{o['shipment'].pk}/", None, VIEWERS),
    ("shipment events", "get", lambda o: f"/api/v1/shipments/{o['shipment'].pk}/events/", None, VIEWERS),
    (
        "shipment create",
        "post",
        lambda o: "/api/v1/shipments/",
        lambda o: _payload(o["order"], CarrierFactory()),
        {"admin", "integration"},
    ),
    ("my shipments", "get", lambda o: "/api/v1/me/shipments/", None, {"customer"}),
    ("my shipment", "get", lambda o: f"/api/v1/me/shipments/{o['shipment'].pk}/", None, {"customer"}),
]


def _everything():
    return [list(m.objects.order_by("pk").values()) for m in (Shipment, ShipmentLine, Charge, OrderLine, Notification)]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_authorisation_matrix(case, role, clients, objects):
    name, method, url, payload, allowed = case
    before = _everything()

    response = getattr(clients[role], method)(
        url(objects), payload(objects) if payload else None, format="json", HTTP_IDEMPOTENCY_KEY=f"{name}-{role}"
    )

    assert_allowed_or_refused(response, name=name, role=role, allowed=allowed, before=before, after=_everything)


# --- query counts -------------------------------------------------------------------------------


def _count(client, url, params):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200, response.content[:300]
    return len(ctx), ctx


def _assert_constant(client, url):
    _count(client, url, {"page_size": 1})  # warm up: the caller's permissions are cached per request user
    small, _ = _count(client, url, {"page_size": 1})
    large, ctx = _count(client, url, {"page_size": 25})
    if small != large:
        pytest.fail(
            f"{url}: {small} queries for 1 row, {large} for 25:\n" + "\n".join(q["sql"] for q in ctx.captured_queries)
        )
    return large


@pytest.fixture
def many(customer):
    kiosk = LocationFactory()
    first = None
    for i in range(30):
        order = make_order(customer=customer, lines=[(ProductFactory(), 1, "10.00"), (ProductFactory(), 2, "5.00")])
        shipment = make_shipment(order=order, pickup_location=kiosk if i % 2 else None)
        first = first or shipment
    _events(first, 30)
    return first


def test_the_staff_list_runs_constant_queries(many, manager_client):
    assert _assert_constant(manager_client, "/api/v1/shipments/") <= 4


def test_the_events_list_runs_constant_queries(many, manager_client):
    assert _assert_constant(manager_client, f"/api/v1/shipments/{many.pk}/events/") <= 4


def test_the_customers_list_runs_constant_queries(many, customer_app_client):
    assert _assert_constant(customer_app_client, "/api/v1/me/shipments/") <= 4
