"""Deliveries and delivery exceptions through the API: staff `deliveries` and `delivery-exceptions`,
the customer's `me/deliveries`; permissions per role, scope, ETags, cut-off, money POSTs, bad
input and query counts."""

import json
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import Notification
from orders.choices import ChargeKind
from orders.models import Charge, Delivery, DeliveryException, DeliveryLine, OrderLine
from orders.services.deliveries import delivery_record
from orders.services.delivery_exceptions import exception_goodwill
from tests.factories import (
    AssociateProfileFactory,
    CustomerAddressFactory,
    CustomerFactory,
    LocationFactory,
    ProductFactory,
    make_delivery,
    make_order,
    make_shipment,
)
from tests.orders.test_deliveries import CUTOFF, T0, WINDOW, Clock

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
ROLES = ["anon", "roleless", "customer", "integration", "associate", "agent", "manager", "admin"]
STAFF = {"associate", "agent", "manager", "admin"}
CUSTOMER = {"customer"}


@pytest.fixture
def clock(monkeypatch):
    c = Clock(T0)
    monkeypatch.setattr(timezone, "now", c.now)
    return c


def sofa_order(customer, *, ship=True, **fields):
    order = make_order(
        customer=customer,
        lines=[(ProductFactory(name=n), 1, "400.00") for n in ("Corner module", "Armless module", "Chaise module")],
        **fields,
    )
    if ship:
        make_shipment(order=order)
    return order


def count_of(delivery, missing=()):
    return [
        {
            "order_line": line.order_line_id,
            "quantity_received": 0 if line.order_line.product.name in missing else line.quantity,
            "condition": "good",
        }
        for line in delivery.lines.select_related("order_line__product")
    ]


def open_exception(customer, **fields):
    delivery = make_delivery(order=sofa_order(customer, **fields))
    delivery_record(actor=None, delivery=delivery, lines=count_of(delivery, missing=("Chaise module",)))
    return DeliveryException.objects.get(delivery=delivery)


@pytest.fixture
def world(customer):
    address = CustomerAddressFactory(customer=customer)
    return {
        "address": address,
        "delivery": make_delivery(order=sofa_order(customer), address=address),
        "exception": open_exception(customer),
        "new_order": make_order(customer=customer),
    }


def _window(days=4):
    start = (timezone.now() + timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
    return {"window_start": start.isoformat(), "window_end": (start + timedelta(hours=2)).isoformat()}


def _problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    return response.json()


# --- the authorisation matrix ----------------------------------------------------------------

KEY = {"HTTP_IDEMPOTENCY_KEY": "matrix-key"}

# (name, method, url builder, payload builder, allowed roles, extra headers)
CASES = [
    ("deliveries list", "get", lambda w: "/api/v1/deliveries/", None, STAFF, {}),
    ("delivery detail", "get", lambda w: f"/api/v1/deliveries/{w['delivery'].pk}/", None, STAFF, {}),
    (
        "delivery create",
        "post",
        lambda w: "/api/v1/deliveries/",
        lambda w: {"order": w["new_order"].pk, "address_id": w["address"].pk, **_window()},
        STAFF,
        {},
    ),
    (
        "delivery change",
        "patch",
        lambda w: f"/api/v1/deliveries/{w['delivery'].pk}/",
        lambda w: {"instructions": "Back door"},
        STAFF,
        {},
    ),
    (
        "delivery record",
        "post",
        lambda w: f"/api/v1/deliveries/{w['delivery'].pk}/record/",
        lambda w: {"lines": count_of(w["delivery"])},
        STAFF,
        {},
    ),
    (
        "delivery cancel",
        "post",
        lambda w: f"/api/v1/deliveries/{w['delivery'].pk}/cancel/",
        lambda w: {"reason": "Customer moved"},
        STAFF,
        {},
    ),
    ("exception queue", "get", lambda w: "/api/v1/delivery-exceptions/", None, STAFF, {}),
    ("exception detail", "get", lambda w: f"/api/v1/delivery-exceptions/{w['exception'].pk}/", None, STAFF, {}),
    (
        "exception ship rest",
        "post",
        lambda w: f"/api/v1/delivery-exceptions/{w['exception'].pk}/ship-rest/",
        lambda w: {"new_estimate": str(timezone.localdate() + timedelta(days=7))},
        STAFF,
        {},
    ),
    (
        "exception goodwill",
        "post",
        lambda w: f"/api/v1/delivery-exceptions/{w['exception'].pk}/goodwill/",
        lambda w: {"amount": "25.00", "note": "Sorry"},
        STAFF,
        KEY,
    ),
    (
        "exception free shipping",
        "post",
        lambda w: f"/api/v1/delivery-exceptions/{w['exception'].pk}/free-shipping/",
        lambda w: {"note": "Sorry"},
        STAFF,
        KEY,
    ),
    (
        "exception escalate",
        "post",
        lambda w: f"/api/v1/delivery-exceptions/{w['exception'].pk}/escalate/",
        lambda w: {"note": "Needs a manager"},
        STAFF,
        {},
    ),
    ("my deliveries", "get", lambda w: "/api/v1/me/deliveries/", None, CUSTOMER, {}),
    ("my delivery", "get", lambda w: f"/api/v1/me/deliveries/{w['delivery'].pk}/", None, CUSTOMER, {}),
    (
        "my delivery change",
        "patch",
        lambda w: f"/api/v1/me/deliveries/{w['delivery'].pk}/",
        lambda w: {"instructions": "Gate code 1234"},
        CUSTOMER,
        {},
    ),
]


def _everything():
    """Every row a denied request could have touched."""
    models = (Delivery, DeliveryLine, DeliveryException, Charge, OrderLine, Notification)
    return [list(m.objects.order_by("pk").values()) for m in models]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_authorisation_matrix(case, role, clients, world):
    name, method, url, payload, allowed, headers = case
    before = _everything()

    response = getattr(clients[role], method)(url(world), payload(world) if payload else None, format="json", **headers)

    if role in allowed:
        assert response.status_code in (200, 201), (name, role, response.content)
        return
    _problem(response, 401 if role == "anon" else 403)
    assert _everything() == before


def test_an_unknown_method_is_405(agent_client, world):
    url = f"/api/v1/deliveries/{world['delivery'].pk}/"
    assert agent_client.put(url, {"instructions": "x"}, format="json").status_code == 405
    assert agent_client.delete(url).status_code == 405


# --- the customer's own deliveries -----------------------------------------------------------


def test_another_customers_delivery_is_404_and_stays_unchanged(customer_app_client, world):
    theirs = make_delivery(order=make_order(customer=CustomerFactory()))

    _problem(customer_app_client.get(f"/api/v1/me/deliveries/{theirs.pk}/"), 404)
    _problem(customer_app_client.patch(f"/api/v1/me/deliveries/{theirs.pk}/", {"instructions": "x"}), 404)
    assert Delivery.objects.get(pk=theirs.pk).instructions == ""
    listed = customer_app_client.get("/api/v1/me/deliveries/").json()["results"]
    assert {row["id"] for row in listed} == set(
        Delivery.objects.filter(customer=world["delivery"].customer).values_list("pk", flat=True)
    )
    assert "recorded_by" not in listed[0]


def test_the_customer_changes_instructions_until_one_second_before_the_cut_off(clock, customer_app_client, customer):
    CustomerAddressFactory(customer=customer)
    delivery = make_delivery(order=sofa_order(customer), window_start=WINDOW[0])
    url = f"/api/v1/me/deliveries/{delivery.pk}/"

    clock.set(CUTOFF - timedelta(seconds=1))
    ok = customer_app_client.patch(url, {"instructions": "Leave it in the garage"}, format="json")
    assert ok.status_code == 200, ok.content
    assert ok.json()["instructions"] == "Leave it in the garage"
    assert ok["ETag"] == ok.json()["etag"]

    clock.set(CUTOFF)
    late = _problem(customer_app_client.patch(url, {"instructions": "Front door"}, format="json"), 409)
    assert late["code"] == "past_cutoff"
    assert "the cut-off was Monday 10 March 2031 at 11:00 (CET)" in late["detail"]
    assert Delivery.objects.get(pk=delivery.pk).instructions == "Leave it in the garage"


def test_the_customer_reschedules_with_if_match_and_a_stale_etag_is_412(customer_app_client, agent_client, world):
    url = f"/api/v1/me/deliveries/{world['delivery'].pk}/"
    etag = customer_app_client.get(url)["ETag"]
    agent_client.patch(f"/api/v1/deliveries/{world['delivery'].pk}/", {"instructions": "Agent's note"}, format="json")

    stale = _problem(customer_app_client.patch(url, _window(days=6), format="json", HTTP_IF_MATCH=etag), 412)

    current = customer_app_client.get(url)
    assert stale["current_etag"] == current["ETag"]
    moved = customer_app_client.patch(url, _window(days=6), format="json", HTTP_IF_MATCH=current["ETag"])
    assert moved.status_code == 200, moved.content
    assert Notification.objects.filter(event="delivery_changed").count() == 1


# --- staff: booking, reading, recording ------------------------------------------------------


def test_an_agent_books_a_delivery_to_a_typed_address(agent_client, world):
    order = world["new_order"]
    body = {
        "order": order.pk,
        "address": {"line1": "5 Dam Square", "city": "Amsterdam", "postcode": "1012JS", "country": "NL"},
        "service": "white_glove",
        "instructions": "Third floor, no lift",
        **_window(),
    }
    response = agent_client.post("/api/v1/deliveries/", body, format="json")

    assert response.status_code == 201, response.content
    data = response.json()
    assert response["Location"] == f"/api/v1/deliveries/{data['id']}/"
    assert response["ETag"] == data["etag"]
    assert (data["address"]["line1"], data["service"], data["status"]) == ("5 Dam Square", "white_glove", "scheduled")
    assert [(line["sku"], line["quantity"]) for line in data["lines"]] == [(order.lines.get().product.sku, 1)]
    assert data["change_cutoff"]


def test_booking_errors_are_4xx_problems(agent_client, world):
    order = world["new_order"]
    stranger_address = CustomerAddressFactory(customer=CustomerFactory())
    other_line = make_order().lines.get()
    base = {"order": order.pk, **_window()}

    assert _problem(agent_client.post("/api/v1/deliveries/", base, format="json"), 400)["errors"][0]["field"] == (
        "address"
    )
    both = {**base, "address_id": world["address"].pk, "address": {"line1": "x", "city": "y", "postcode": "1"}}
    _problem(agent_client.post("/api/v1/deliveries/", both, format="json"), 400)
    foreign = _problem(
        agent_client.post("/api/v1/deliveries/", {**base, "address_id": stranger_address.pk}, format="json"), 422
    )
    assert foreign["code"] == "address_not_customers"
    lines = [{"order_line": other_line.pk, "quantity": 1}]
    mine = {**base, "address_id": world["address"].pk}
    assert _problem(agent_client.post("/api/v1/deliveries/", {**mine, "lines": lines}, format="json"), 422)["code"] == (
        "line_not_on_order"
    )
    past = {**mine, "window_start": "2020-01-01T10:00:00Z", "window_end": "2020-01-01T12:00:00Z"}
    assert _problem(agent_client.post("/api/v1/deliveries/", past, format="json"), 422)["code"] == "window_in_past"
    assert not Delivery.objects.filter(order=order).exists()


def test_recording_through_the_api_and_a_second_record_is_409(associate_client, world):
    delivery = world["delivery"]
    url = f"/api/v1/deliveries/{delivery.pk}/record/"
    body = {"lines": count_of(delivery, missing=("Chaise module",))}

    first = associate_client.post(url, body, format="json")
    assert first.status_code == 200, first.content
    assert first.json()["status"] == "partially_delivered"
    assert first["ETag"] == first.json()["etag"]
    assert sorted(line["quantity_received"] for line in first.json()["lines"]) == [0, 1, 1]

    again = _problem(associate_client.post(url, body, format="json"), 409)
    assert (again["code"], again["allowed"]) == ("transition_not_allowed", [])
    assert DeliveryException.objects.filter(delivery=delivery).count() == 1


def test_cancel_needs_a_reason(agent_client, world):
    url = f"/api/v1/deliveries/{world['delivery'].pk}/cancel/"
    _problem(agent_client.post(url, {}, format="json"), 400)
    assert _problem(agent_client.post(url, {"reason": "   "}, format="json"), 400)["errors"][0]["field"] == "reason"
    assert agent_client.post(url, {"reason": "Address wrong"}, format="json").json()["status"] == "cancelled"


def test_the_delivery_list_filters_by_order_status_and_day_at_a_location(agent_client, customer):
    store = LocationFactory(time_zone="Asia/Tokyo")
    at_store = make_delivery(order=make_order(customer=customer, location=store))
    other = make_delivery(order=make_order(customer=customer))
    local_day = timezone.localtime(at_store.window_start, ZoneInfo("Asia/Tokyo"))

    def ids(params):
        response = agent_client.get("/api/v1/deliveries/", params)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids({"order": other.order_id}) == [other.pk]
    assert ids({"location": store.pk, "date": local_day.date().isoformat()}) == [at_store.pk]
    assert ids({"location": store.pk, "date": (local_day.date() - timedelta(days=1)).isoformat()}) == []
    assert ids({"status": "cancelled"}) == []
    assert set(ids({"status": "scheduled"})) == {at_store.pk, other.pk}
    assert ids({"search": at_store.number}) == [at_store.pk]


# --- exceptions ------------------------------------------------------------------------------


def test_the_queue_is_oldest_first_and_filters_by_status_and_kind(agent_client, customer):
    old, new = open_exception(customer), open_exception(customer)
    DeliveryException.objects.filter(pk=old.pk).update(opened_at=timezone.now() - timedelta(days=3))
    done = open_exception(customer)
    exception_goodwill(actor=AssociateProfileFactory().user, exception=done, amount=Decimal("5"), note="Sorry")

    def ids(params=None):
        response = agent_client.get("/api/v1/delivery-exceptions/", params or {})
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids() == [old.pk, new.pk]
    assert ids({"status": "resolved"}) == [done.pk]
    assert ids({"kind": "damage"}) == []
    assert ids({"kind": "shortfall", "status": ["open", "resolved"]}) == [old.pk, new.pk, done.pk]


def test_an_exception_shows_the_remedies_at_hand_for_the_caller(agent_client, world):
    url = f"/api/v1/delivery-exceptions/{world['exception'].pk}/"
    no_limit = APIClient()
    no_limit.force_authenticate(AssociateProfileFactory(user__roles=["associate"], approval_limit=0).user)

    data = agent_client.get(url).json()
    assert data["remedies"] == ["ship_rest", "goodwill_credit", "free_shipping"]
    assert no_limit.get(url).json()["remedies"] == ["ship_rest", "free_shipping"]
    assert data["details"][0]["product"] == "Chaise module"
    assert (data["order"]["number"], data["customer"]["number"]) == (
        world["exception"].order.number,
        world["exception"].customer.number,
    )
    assert len(data["delivery"]["lines"]) == 3


def test_goodwill_moves_money_so_it_needs_an_idempotency_key_and_is_done_once(agent_client, world):
    url = f"/api/v1/delivery-exceptions/{world['exception'].pk}/goodwill/"
    body = {"amount": "30.00", "note": "Sorry for the missing piece"}

    missing = _problem(agent_client.post(url, body, format="json"), 400)
    assert missing["code"] == "idempotency_key_required"
    assert not Charge.objects.filter(kind=ChargeKind.GOODWILL_CREDIT).exists()

    first = agent_client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="gw-1")
    replay = agent_client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="gw-1")
    assert first.status_code == replay.status_code == 200, first.content
    assert replay["Idempotent-Replayed"] == "true"
    assert first.json()["status"] == "resolved" and first.json()["remedies"] == []
    assert list(Charge.objects.filter(kind=ChargeKind.GOODWILL_CREDIT).values_list("amount", flat=True)) == [
        Decimal("-30.00")
    ]


def test_goodwill_above_the_approval_limit_is_422_and_nothing_changes(agent_client, world):
    url = f"/api/v1/delivery-exceptions/{world['exception'].pk}/goodwill/"
    refused = _problem(
        agent_client.post(url, {"amount": "150.00", "note": "Big"}, format="json", HTTP_IDEMPOTENCY_KEY="gw-2"), 422
    )
    assert refused["code"] == "above_approval_limit"
    assert DeliveryException.objects.get(pk=world["exception"].pk).status == "open"
    assert not Charge.objects.filter(kind=ChargeKind.GOODWILL_CREDIT).exists()


def test_free_shipping_needs_a_key_and_ship_rest_and_escalate_answer_the_exception(agent_client, customer, world):
    exception = world["exception"]
    base = f"/api/v1/delivery-exceptions/{exception.pk}"
    _problem(agent_client.post(f"{base}/free-shipping/", {"note": "Sorry"}, format="json"), 400)

    escalated = agent_client.post(f"{base}/escalate/", {"note": "Angry customer"}, format="json")
    assert escalated.json()["status"] == "escalated"
    estimate = timezone.localdate() + timedelta(days=10)
    shipped = agent_client.post(f"{base}/ship-rest/", {"new_estimate": estimate.isoformat()}, format="json")
    assert shipped.status_code == 200, shipped.content
    assert (shipped.json()["status"], shipped.json()["remedy"]) == ("resolved", "ship_rest")
    assert OrderLine.objects.get(product__name="Chaise module", order=exception.order).promised_date == estimate

    other = open_exception(customer)
    given = agent_client.post(
        f"/api/v1/delivery-exceptions/{other.pk}/free-shipping/",
        {"note": "Sorry"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="fs-1",
    )
    assert given.json()["remedy"] == "free_shipping"
    assert Charge.objects.filter(kind=ChargeKind.FREE_SHIPPING, order=other.order).count() == 1


# --- bad input -------------------------------------------------------------------------------

HUGE = "x" * 100_000
BIG_ID = 10**20

W = {"window_start": "2031-01-01T10:00:00Z", "window_end": "2031-01-01T12:00:00Z"}


def _create(w, **fields):
    """A valid booking with `fields` replaced (None removes a field)."""
    body = {"order": w["new_order"].pk, "address_id": w["address"].pk, **W, **fields}
    return {k: v for k, v in body.items() if v is not None}


def _counted(w, **fields):
    return {"lines": [{**line, **fields} for line in count_of(w["delivery"])]}


# endpoint -> (client fixture, url builder, builder of wrong payloads, extra headers)
BAD = {
    "create": (
        "agent_client",
        lambda w: "/api/v1/deliveries/",
        lambda w: [
            _create(w, order="abc"),
            _create(w, order=BIG_ID),
            _create(w, order=True),
            _create(w, order=None),
            _create(w, window_start="tomorrow"),
            _create(w, window_end=12),
            _create(w, address_id=BIG_ID),
            _create(w, address_id=None, address="home"),
            _create(w, address_id=None, address={"line1": "x", "city": "y", "postcode": "1", "country": "nl"}),
            _create(w, lines=[{"order_line": "x", "quantity": 1}]),
            _create(w, lines=[{"order_line": w["new_order"].lines.get().pk, "quantity": -1}]),
            _create(w, lines="all"),
            _create(w, lines=[]),
            _create(w, service="drone"),
            _create(w, instructions=HUGE),
            _create(w, instructions="nul\x00byte"),
            _create(w, shipment=BIG_ID),
            _create(w, colour="red"),
            [1, 2, 3],
        ],
        {},
    ),
    "change": (
        "agent_client",
        lambda w: f"/api/v1/deliveries/{w['delivery'].pk}/",
        lambda w: [
            {},
            {"instructions": HUGE},
            {"window_start": "soon"},
            {"status": "delivered"},
            {"instructions": None},
            {"window_end": W["window_start"]},
        ],
        {},
    ),
    "record": (
        "associate_client",
        lambda w: f"/api/v1/deliveries/{w['delivery'].pk}/record/",
        lambda w: [
            {},
            {"lines": []},
            {"lines": [{"order_line": BIG_ID, "quantity_received": 1}]},
            _counted(w, quantity_received=-1),
            _counted(w, quantity_received=2),
            _counted(w, quantity_received=10**12),
            _counted(w, condition="wet"),
            _counted(w, order_line="one"),
            {**_counted(w), "refused": "maybe"},
            {"lines": "all"},
        ],
        {},
    ),
    "cancel": (
        "agent_client",
        lambda w: f"/api/v1/deliveries/{w['delivery'].pk}/cancel/",
        lambda w: [{}, {"reason": HUGE}, {"reason": ["a"]}],
        {},
    ),
    "ship rest": (
        "agent_client",
        lambda w: f"/api/v1/delivery-exceptions/{w['exception'].pk}/ship-rest/",
        lambda w: [{}, {"new_estimate": "next week"}, {"new_estimate": "2020-01-01"}, {"new_estimate": "2031-02-30"}],
        {},
    ),
    "goodwill": (
        "agent_client",
        lambda w: f"/api/v1/delivery-exceptions/{w['exception'].pk}/goodwill/",
        lambda w: [
            {"amount": "-5", "note": "x"},
            {"amount": "0", "note": "x"},
            {"amount": "1e400", "note": "x"},
            {"amount": "NaN", "note": "x"},
            {"amount": "5.001", "note": "x"},
            {"amount": "5"},
            {"amount": "5", "note": " "},
            {"amount": "5", "note": HUGE},
        ],
        {"HTTP_IDEMPOTENCY_KEY": None},
    ),
    "free shipping": (
        "agent_client",
        lambda w: f"/api/v1/delivery-exceptions/{w['exception'].pk}/free-shipping/",
        lambda w: [{}, {"note": HUGE}, {"note": "x", "amount": "5"}],
        {"HTTP_IDEMPOTENCY_KEY": None},
    ),
    "escalate": (
        "agent_client",
        lambda w: f"/api/v1/delivery-exceptions/{w['exception'].pk}/escalate/",
        lambda w: [{}, {"note": ""}, {"note": {"a": 1}}],
        {},
    ),
    "my change": (
        "customer_app_client",
        lambda w: f"/api/v1/me/deliveries/{w['delivery'].pk}/",
        lambda w: [{}, {"window_end": "yesterday"}, {"order": 5}, {"window_start": "2020-01-01T10:00:00Z"}],
        {},
    ),
}


@pytest.mark.parametrize("endpoint", list(BAD))
def test_bad_input_is_a_4xx_problem_and_writes_nothing(request, endpoint, world):
    client_name, url, payloads, headers = BAD[endpoint]
    client = request.getfixturevalue(client_name)
    method = client.patch if endpoint in ("change", "my change") else client.post
    before = _everything()
    for number, payload in enumerate(payloads(world)):
        extra = {k: v or f"bad-{endpoint}-{number}" for k, v in headers.items()}
        response = method(url(world), payload, format="json", **extra)
        assert 400 <= response.status_code < 500, (endpoint, payload, response.status_code, response.content[:300])
        assert response["Content-Type"] == PROBLEM
    malformed = method(url(world), data="{not json", content_type="application/json")
    assert malformed.status_code == 400
    assert _everything() == before


@pytest.mark.parametrize(
    "params",
    [
        {"date": "not-a-date"},
        {"order": str(BIG_ID)},
        {"order": "1.5"},
        {"status": "lost"},
        {"location": "abc"},
        {"location": str(BIG_ID)},
        {"customer": "-1"},
    ],
)
def test_bad_list_filters_are_400(agent_client, params):
    _problem(agent_client.get("/api/v1/deliveries/", params), 400)


@pytest.mark.parametrize("params", [{"status": "lost"}, {"kind": "flood"}, {"order": str(BIG_ID)}])
def test_bad_queue_filters_are_400(agent_client, params):
    _problem(agent_client.get("/api/v1/delivery-exceptions/", params), 400)


def test_unknown_ids_are_404(agent_client, customer_app_client):
    for url in (f"/api/v1/deliveries/{BIG_ID}/", "/api/v1/delivery-exceptions/0/", f"/api/v1/me/deliveries/{BIG_ID}/"):
        client = customer_app_client if "/me/" in url else agent_client
        _problem(client.get(url), 404)


# --- query counts ----------------------------------------------------------------------------

ROWS = 12


def _queries(client, url, params):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200, response.content[:300]
    return len(ctx), ctx


def _assert_constant(client, url, bound):
    _queries(client, url, {"page_size": 1})  # warm up: the caller's permissions are cached per user
    small, _ = _queries(client, url, {"page_size": 1})
    large, ctx = _queries(client, url, {"page_size": 25})
    if small != large:
        pytest.fail(f"{url}: {small} queries for 1 row, {large} for 25:\n" + "\n".join(q["sql"] for q in ctx))
    assert large <= bound, "\n".join(q["sql"] for q in ctx.captured_queries)


@pytest.fixture
def many(customer):
    CustomerAddressFactory(customer=customer)
    for _ in range(ROWS):
        open_exception(customer)
    return customer


@pytest.mark.parametrize(
    ("client_name", "url"),
    [
        ("agent_client", "/api/v1/deliveries/"),
        ("agent_client", "/api/v1/delivery-exceptions/"),
        ("customer_app_client", "/api/v1/me/deliveries/"),
    ],
)
def test_lists_run_constant_queries(request, many, client_name, url):
    _assert_constant(request.getfixturevalue(client_name), url, bound=6)


def test_a_json_body_that_is_not_an_object_is_400(agent_client, world):
    response = agent_client.post(
        f"/api/v1/deliveries/{world['delivery'].pk}/record/", data=json.dumps([1]), content_type="application/json"
    )
    _problem(response, 400)
