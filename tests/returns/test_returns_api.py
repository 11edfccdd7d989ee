"""The returns API as the apps call it: the customer's `me/returns`, staff `returns` with every
transition, `return-options` and the managers' analytics. Who may call what (a denied call leaves
nothing behind), refusals as problem+json with a reason per line, Idempotency-Key on the refund,
bad input and query counts."""

import json
from datetime import timedelta
from decimal import Decimal
from uuid import uuid4

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.models import Notification
from orders.choices import ChargeKind
from orders.models import Charge
from returns.choices import ReturnStatus
from returns.models import ReturnPolicy, ReturnRequest
from returns.services.returns import return_approve, return_cancel, return_inspect, return_receive, return_refund
from tests.factories import (
    AssociateProfileFactory,
    CustomerFactory,
    LocationFactory,
    ProductFactory,
    make_paid_order,
    make_return,
)
from tests.matrix import assert_allowed_or_refused

pytestmark = pytest.mark.django_db

ROLES = ["anon", "roleless", "customer", "associate", "agent", "manager", "admin"]
STAFF = {"associate", "agent", "manager", "admin"}
MANAGERS = {"manager", "admin"}


def _post(client, url, data=None, **extra):
    return client.post(url, data, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid4()), **extra)


@pytest.fixture
def home(associate):
    return associate.associate.home_location


@pytest.fixture
def my_order(customer):
    return make_paid_order(customer=customer, lines=[(ProductFactory(), 2, "25.00")])


def _request_body(order, **fields):
    line = order.lines.get()
    return {
        "order": order.pk,
        "lines": [{"order_line": line.pk, "quantity": 1, "reason": "doesnt_fit", "reason_detail": "Too small"}],
        "method": "carrier_label",
        **fields,
    }


# --- the customer's app -----------------------------------------------------------------------


def test_a_customer_starts_a_return_of_their_order_and_sees_its_drop_off_code(customer_app_client, my_order):
    kiosk = LocationFactory(kind="kiosk")

    response = _post(
        customer_app_client,
        "/api/v1/me/returns/",
        _request_body(my_order, method="kiosk_drop_off", drop_off_location=kiosk.pk),
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "approved" and body["value"] == "25.00"
    assert body["drop_off_code"] and body["drop_off_location"]["id"] == kiosk.pk
    assert body["lines"][0]["reason"] == "doesnt_fit" and body["lines"][0]["product"]["sku"]
    assert "flags" not in body  # the customer is not shown why a request waits
    assert response["Location"].endswith(f"/api/v1/me/returns/{body['id']}/")
    assert ReturnRequest.objects.get(pk=body["id"]).channel == "app"


def test_a_refused_return_is_a_422_with_a_reason_per_line(customer_app_client, customer):
    order = make_paid_order(customer=customer, lines=[(ProductFactory(returnable=False), 1, "25.00")])

    response = _post(customer_app_client, "/api/v1/me/returns/", _request_body(order))

    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "return_refused"
    assert [r["code"] for r in body["refusals"]] == ["final_sale"]
    assert not ReturnRequest.objects.exists()


def test_a_customer_cannot_return_another_customers_order_or_see_their_returns(customer_app_client, customer):
    theirs = make_paid_order(customer=CustomerFactory(), lines=[(ProductFactory(), 1, "25.00")])
    their_return = make_return(order=theirs)
    mine = make_return(order=make_paid_order(customer=customer, lines=[(ProductFactory(), 1, "5.00")]))

    response = _post(customer_app_client, "/api/v1/me/returns/", _request_body(theirs))
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "order"
    assert customer_app_client.get(f"/api/v1/me/returns/{their_return.pk}/").status_code == 404
    assert _post(customer_app_client, f"/api/v1/me/returns/{their_return.pk}/cancel/").status_code == 404
    listed = customer_app_client.get("/api/v1/me/returns/").json()["results"]
    assert [r["id"] for r in listed] == [mine.pk]


def test_a_customer_cancels_their_own_return(customer_app_client, my_order):
    created = _post(customer_app_client, "/api/v1/me/returns/", _request_body(my_order)).json()

    response = _post(customer_app_client, f"/api/v1/me/returns/{created['id']}/cancel/", {"reason": "Kept it"})

    assert response.status_code == 200 and response.json()["status"] == "cancelled"


# --- staff ------------------------------------------------------------------------------------


def test_the_whole_journey_through_the_staff_api(associate_client, home, customer):
    order = make_paid_order(customer=customer, lines=[(ProductFactory(), 2, "25.00")])
    created = _post(associate_client, "/api/v1/returns/", {**_request_body(order), "channel": "phone"}).json()
    line_id = created["lines"][0]["id"]
    url = f"/api/v1/returns/{created['id']}"

    received = _post(
        associate_client,
        f"{url}/receive/",
        {"location": home.pk, "lines": [{"return_line": line_id, "quantity_received": 1}]},
    )
    inspected = _post(
        associate_client,
        f"{url}/inspect/",
        {
            "items": [
                {
                    "return_line": line_id,
                    "quantity": 1,
                    "grade": "like_new",
                    "disposition": "open_box",
                    "recovered_value": "18.00",
                }
            ]
        },
    )
    refunded = _post(associate_client, f"{url}/refund/", {})

    assert received.status_code == 200, received.content
    assert received.json()["lines"][0]["discrepancy"] == 0
    assert inspected.status_code == 200, inspected.content
    assert inspected.json()["lines"][0]["inspections"][0]["disposition"] == "open_box"
    assert refunded.status_code == 200, refunded.content
    body = refunded.json()
    assert body["status"] == "resolved" and body["refunded_amount"] == "25.00"
    assert [step["to_state"] for step in body["history"]] == ["approved", "received", "inspected", "resolved"]
    assert body["allowed_transitions"] == []
    assert Charge.objects.get(order=order, kind=ChargeKind.REFUND).amount == Decimal("-25.00")


def test_the_refund_requires_an_idempotency_key_and_a_retry_refunds_once(associate_client, home):
    request = make_return(order=make_paid_order(lines=[(ProductFactory(), 1, "25.00")]))
    url = f"/api/v1/returns/{request.pk}"
    _post(associate_client, f"{url}/receive/", {"location": home.pk})
    line = request.lines.get()
    item = {"return_line": line.pk, "quantity": 1, "grade": "new", "disposition": "restock"}
    _post(associate_client, f"{url}/inspect/", {"items": [item]})

    without = associate_client.post(f"{url}/refund/", {}, format="json")
    key = str(uuid4())
    first = associate_client.post(f"{url}/refund/", {}, format="json", HTTP_IDEMPOTENCY_KEY=key)
    again = associate_client.post(f"{url}/refund/", {}, format="json", HTTP_IDEMPOTENCY_KEY=key)

    assert without.status_code == 400
    assert first.status_code == 200 and again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert Charge.objects.filter(kind=ChargeKind.REFUND).count() == 1


def test_an_illegal_transition_is_a_409_naming_the_allowed_ones(manager_client):
    request = make_return(order=make_paid_order(lines=[(ProductFactory(), 1, "25.00")]))

    response = _post(
        manager_client,
        f"/api/v1/returns/{request.pk}/refund/",
        {},
    )

    assert response.status_code == 409
    assert sorted(response.json()["allowed"]) == ["cancel", "receive"]


def test_a_reject_needs_a_reason_field(manager_client):
    request = make_return(order=make_paid_order(lines=[(ProductFactory(), 1, "300.00")]))

    response = _post(manager_client, f"/api/v1/returns/{request.pk}/reject/", {})

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "reason"
    assert ReturnRequest.objects.get(pk=request.pk).status == ReturnStatus.REQUESTED


def test_the_approval_queue_is_the_requested_filter_oldest_waiting_visible(manager_client):
    waiting = make_return(order=make_paid_order(lines=[(ProductFactory(), 1, "300.00")]))
    make_return(order=make_paid_order(lines=[(ProductFactory(), 1, "30.00")]))

    rows = manager_client.get("/api/v1/returns/", {"status": "requested"}).json()["results"]

    assert [r["id"] for r in rows] == [waiting.pk]
    assert rows[0]["flags"] == ["above_auto_approval_limit"]


# --- who may call what ------------------------------------------------------------------------


@pytest.fixture
def objects(customer, home):
    ReturnPolicy.objects.update(auto_approve_limit=Decimal("0"))
    order = make_paid_order(lines=[(ProductFactory(), 2, "10.00")])
    return {"order": order, "waiting": make_return(order=order, lines=_one(order, 1))}


def _one(order, quantity):
    return [{"order_line": order.lines.get(), "quantity": quantity, "reason": "other"}]


# (name, method, url builder, body builder, allowed roles)
CASES = [
    ("list", "get", lambda o: "/api/v1/returns/", None, STAFF),
    ("detail", "get", lambda o: f"/api/v1/returns/{o['waiting'].pk}/", None, STAFF),
    (
        "create",
        "post",
        lambda o: "/api/v1/returns/",
        lambda o: {**_request_body(o["order"]), "lines": [{**_request_body(o["order"])["lines"][0]}]},
        STAFF,
    ),
    ("approve", "post", lambda o: f"/api/v1/returns/{o['waiting'].pk}/approve/", lambda o: {}, STAFF),
    ("reject", "post", lambda o: f"/api/v1/returns/{o['waiting'].pk}/reject/", lambda o: {"reason": "No"}, STAFF),
    (
        "analytics",
        "get",
        lambda o: "/api/v1/returns/analytics/?since=2026-01-01&until=2026-04-01",
        None,
        MANAGERS,
    ),
    ("my returns", "get", lambda o: "/api/v1/me/returns/", None, {"customer"}),
    (
        "return options",
        "get",
        lambda o: "/api/v1/return-options/?latitude=52.37&longitude=4.89",
        None,
        STAFF | {"customer"},
    ),
]


def _state():
    return (
        list(ReturnRequest.objects.order_by("pk").values()),
        list(Notification.objects.order_by("pk").values_list("event", flat=True)),
    )


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_authorisation_matrix(case, role, clients, objects):
    name, method, url, body, allowed = case
    before = _state()

    client = clients[role]
    response = client.get(url(objects)) if method == "get" else _post(client, url(objects), body(objects))

    assert_allowed_or_refused(response, name=name, role=role, allowed=allowed, before=before, after=_state)


def test_staff_cannot_use_the_customers_scope_and_customers_not_the_staffs(associate_client, customer_app_client):
    assert associate_client.get("/api/v1/me/returns/").status_code == 403
    assert customer_app_client.get("/api/v1/returns/").status_code == 403


def test_an_associate_receives_at_their_home_location_only(associate_client, home):
    request = make_return(order=make_paid_order(lines=[(ProductFactory(), 1, "25.00")]))

    elsewhere = _post(associate_client, f"/api/v1/returns/{request.pk}/receive/", {"location": LocationFactory().pk})
    at_home = _post(associate_client, f"/api/v1/returns/{request.pk}/receive/", {"location": home.pk})

    assert elsewhere.status_code == 403
    assert at_home.status_code == 200


# --- bad input --------------------------------------------------------------------------------

BAD_BODIES = [
    "not json",
    json.dumps([1, 2]),
    json.dumps({"order": "x", "lines": [], "method": "carrier_label"}),
    json.dumps({"order": 2**70, "lines": [{"order_line": 1, "quantity": 1, "reason": "other"}], "method": "x"}),
    json.dumps(
        {"order": 1, "lines": [{"order_line": 1, "quantity": -1, "reason": "other"}], "method": "carrier_label"}
    ),
    json.dumps({"order": 1, "lines": "all", "method": "carrier_label"}),
    json.dumps({"order": 1, "lines": [{"order_line": 1, "quantity": 1, "reason": "nope"}], "method": "carrier_label"}),
    json.dumps({"order": 1, "lines": [{"order_line": 1, "quantity": 1, "reason": "other", "x": 1}], "method": "x"}),
    json.dumps({"order": 1, "lines": [{"order_line": 1, "quantity": 1, "reason": "other", "reason_detail": "\x00"}]}),
    json.dumps({"order": 1, "lines": [{"order_line": 1, "quantity": 1, "reason": "other"}] * 201, "method": "x"}),
    json.dumps({"order": 1, "lines": [{"order_line": 1, "quantity": 1, "reason": "o" * 10_000}], "method": "x"}),
]


@pytest.mark.parametrize("body", BAD_BODIES)
@pytest.mark.parametrize("url", ["/api/v1/returns/", "/api/v1/me/returns/"])
def test_bad_request_bodies_are_4xx_never_500(body, url, associate_client, customer_app_client, my_order):
    client = associate_client if url == "/api/v1/returns/" else customer_app_client
    response = client.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=str(uuid4()))

    assert 400 <= response.status_code < 500, response.content
    assert not ReturnRequest.objects.exists()


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("receive", {"location": "x"}),
        ("receive", {"location": 1, "lines": [{"return_line": 1, "quantity_received": -1}]}),
        ("receive", {"location": 2**70}),
        ("inspect", {"items": [{"return_line": 1, "quantity": 1, "grade": "new", "disposition": "burn"}]}),
        (
            "inspect",
            {
                "items": [
                    {"return_line": 1, "quantity": 1, "grade": "new", "disposition": "restock", "recovered_value": "-1"}
                ]
            },
        ),
        ("inspect", {"items": [{"return_line": 10**30, "quantity": 1, "grade": "new", "disposition": "restock"}]}),
        ("inspect", {"items": "all"}),
        ("refund", {"resolution": "refund"}),
        ("approve", {"reason": ["x"]}),
    ],
)
def test_bad_transition_bodies_are_4xx_never_500(action, body, manager_client):
    request = make_return(order=make_paid_order(lines=[(ProductFactory(), 1, "25.00")]))

    response = _post(manager_client, f"/api/v1/returns/{request.pk}/{action}/", body)

    assert 400 <= response.status_code < 500, response.content


def test_a_line_of_another_order_is_a_422(associate_client, my_order):
    other = make_paid_order(lines=[(ProductFactory(), 1, "25.00")])
    body = _request_body(my_order)
    body["lines"][0]["order_line"] = other.lines.get().pk

    response = _post(associate_client, "/api/v1/returns/", body)

    assert response.status_code == 422 and response.json()["code"] == "line_not_in_order"


@pytest.mark.parametrize(
    "query",
    [
        {"since": "2026-04-01", "until": "2026-01-01"},
        {"since": "x", "until": "2026-01-01"},
        {"since": "2020-01-01", "until": "2026-01-01"},
        {"since": "2026-01-01"},
        {"since": "2026-01-01", "until": "2026-02-01", "location": "x"},
    ],
)
def test_bad_analytics_queries_are_400(query, manager_client):
    response = manager_client.get("/api/v1/returns/analytics/", query)

    assert response.status_code == 400, response.content


# --- analytics --------------------------------------------------------------------------------


def test_analytics_figures_for_a_period(manager_client, admin_user):
    store = admin_user.associate.home_location
    sofa, lamp = ProductFactory(), ProductFactory()
    order = make_paid_order(lines=[(sofa, 4, "100.00"), (lamp, 4, "10.00")], location=store)
    sofa_line, lamp_line = order.lines.order_by("id")
    request = make_return(
        order=order,
        lines=[
            {"order_line": sofa_line, "quantity": 1, "reason": "damaged"},
            {"order_line": lamp_line, "quantity": 2, "reason": "changed_mind"},
        ],
    )
    request = return_approve(actor=admin_user, return_request=request)
    request = return_receive(actor=admin_user, return_request=request, location=store)
    sofa_return, lamp_return = request.lines.order_by("id")
    request = return_inspect(
        actor=admin_user,
        return_request=request,
        items=[
            {
                "return_line": sofa_return,
                "quantity": 1,
                "grade": "damaged",
                "disposition": "landfill",
                "recovered_value": 0,
            },
            {
                "return_line": lamp_return,
                "quantity": 2,
                "grade": "new",
                "disposition": "restock",
                "recovered_value": 16,
            },
        ],
    )
    return_refund(actor=admin_user, return_request=request)
    today = timezone.now().date()

    body = manager_client.get(
        "/api/v1/returns/analytics/",
        {"since": str(today - timedelta(days=90)), "until": str(today + timedelta(days=1))},
    ).json()

    assert (body["returns"], body["units_sold"], body["units_returned"]) == (1, 8, 3)
    assert body["return_rate"] == "37.50"
    assert (body["value_refunded"], body["value_credited"], body["value_exchanged"]) == ("120.00", "0.00", "0.00")
    assert body["value_recovered"] == "16.00"
    assert (body["units_inspected"], body["units_kept_from_landfill"], body["landfill_diversion"]) == (3, 2, "66.67")
    assert [(r["sku"], r["units"], r["return_rate"]) for r in body["by_product"]] == [
        (lamp.sku, 2, "50.00"),
        (sofa.sku, 1, "25.00"),
    ]
    assert {r["reason"]: r["units"] for r in body["by_reason"]} == {"changed_mind": 2, "damaged": 1}
    elsewhere = manager_client.get(
        "/api/v1/returns/analytics/",
        {
            "since": str(today - timedelta(days=90)),
            "until": str(today + timedelta(days=1)),
            "location": LocationFactory().pk,
        },
    ).json()
    assert (elsewhere["returns"], elsewhere["units_sold"]) == (0, 0)


def test_cancelled_units_are_not_counted_as_sold(manager_client):
    from orders.services.orders import order_lines_cancel

    order = make_paid_order(lines=[(ProductFactory(), 4, "10.00")])
    order_lines_cancel(actor=None, order=order, lines=[(order.lines.get(), 2)], reason="out of stock")
    today = timezone.now().date()

    body = manager_client.get(
        "/api/v1/returns/analytics/", {"since": str(today - timedelta(days=1)), "until": str(today + timedelta(days=1))}
    ).json()

    assert body["units_sold"] == 2


def test_serial_returners_are_customers_with_three_or_more_returns_of_their_own_choice(manager_client):
    serial = CustomerFactory()
    for _ in range(3):
        make_return(order=make_paid_order(customer=serial, lines=[(ProductFactory(), 1, "5.00")]))
    for _ in range(3):  # faults of the retailer do not make a serial returner
        order = make_paid_order(lines=[(ProductFactory(), 1, "5.00")])
        make_return(order=order, lines=[{"order_line": order.lines.get(), "quantity": 1, "reason": "defective"}])
    today = timezone.now().date()

    body = manager_client.get(
        "/api/v1/returns/analytics/", {"since": str(today - timedelta(days=1)), "until": str(today + timedelta(days=1))}
    ).json()

    assert [(r["number"], r["returns"]) for r in body["serial_returners"]] == [(serial.number, 3)]


def test_analytics_run_a_fixed_number_of_queries(manager_client):
    today = timezone.now().date()
    query = {"since": str(today - timedelta(days=1)), "until": str(today + timedelta(days=1))}

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert manager_client.get("/api/v1/returns/analytics/", query).status_code == 200
        return len(ctx)

    make_return(order=make_paid_order(lines=[(ProductFactory(), 1, "5.00")]))
    count()  # warm the caller's permissions
    few = count()
    for _ in range(5):
        make_return(order=make_paid_order(lines=[(ProductFactory(), 1, "5.00"), (ProductFactory(), 1, "5.00")]))
    assert count() == few


# --- return options ---------------------------------------------------------------------------


def test_return_options_rank_nearby_drop_offs_first_and_a_collection_last(customer_app_client):
    near_pudo = LocationFactory(kind="pudo", latitude=Decimal("52.371"), longitude=Decimal("4.896"))
    near_store = LocationFactory(kind="store", latitude=Decimal("52.372"), longitude=Decimal("4.897"))
    far_kiosk = LocationFactory(kind="kiosk", latitude=Decimal("52.45"), longitude=Decimal("4.95"))
    LocationFactory(kind="warehouse", latitude=Decimal("52.371"), longitude=Decimal("4.896"))

    options = customer_app_client.get("/api/v1/return-options/", {"latitude": "52.3702", "longitude": "4.8952"}).json()

    assert [(o["method"], o["location"]["id"] if o["location"] else None) for o in options] == [
        ("pudo_drop_off", near_pudo.pk),
        ("store_drop_off", near_store.pk),
        ("kiosk_drop_off", far_kiosk.pk),
        ("carrier_label", None),
        ("carrier_collection", None),
    ]
    assert options[0]["label_free"] is True and options[1]["label_free"] is False
    assert options[-1]["co2_grams"] > options[0]["co2_grams"]


@pytest.mark.parametrize("query", [{}, {"latitude": "91", "longitude": "0"}, {"latitude": "x", "longitude": "1"}])
def test_bad_return_option_queries_are_400(query, customer_app_client):
    assert customer_app_client.get("/api/v1/return-options/", query).status_code == 400


# --- query counts -----------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/api/v1/returns/", "/api/v1/me/returns/"])
def test_return_lists_run_constant_queries(url, manager_client, customer_app_client, customer):
    client = manager_client if url == "/api/v1/returns/" else customer_app_client

    def count(size):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url, {"page_size": size}).status_code == 200
        return len(ctx)

    for _ in range(4):
        order = make_paid_order(customer=customer, lines=[(ProductFactory(), 1, "5.00"), (ProductFactory(), 1, "5.00")])
        make_return(order=order)
    count(1)
    assert count(1) == count(4)


def test_the_drop_off_code_is_shown_only_while_the_return_is_on_its_way(customer_app_client, customer, manager):
    ReturnPolicy.objects.update(auto_approve_limit=Decimal("0"))
    order = make_paid_order(customer=customer, lines=[(ProductFactory(), 1, "25.00")])
    kiosk = LocationFactory(kind="kiosk")
    created = _post(
        customer_app_client,
        "/api/v1/me/returns/",
        _request_body(order, method="kiosk_drop_off", drop_off_location=kiosk.pk),
    ).json()
    url = f"/api/v1/me/returns/{created['id']}/"

    waiting = customer_app_client.get(url).json()
    request = return_approve(actor=manager, return_request=ReturnRequest.objects.get(pk=created["id"]))
    approved = customer_app_client.get(url).json()
    return_cancel(actor=manager, return_request=request)
    cancelled = customer_app_client.get(url).json()

    assert waiting["drop_off_code"] is None
    assert approved["drop_off_code"] == ReturnRequest.objects.get(pk=created["id"]).drop_off_code
    assert cancelled["drop_off_code"] is None


def test_customers_do_not_see_what_their_returned_items_recovered(customer_app_client, customer, manager_client):
    store = LocationFactory()
    order = make_paid_order(customer=customer, lines=[(ProductFactory(), 1, "25.00")])
    request = make_return(order=order)
    admin = AssociateProfileFactory(home_location=store, user__roles=["admin"]).user
    request = return_receive(actor=admin, return_request=request, location=store)
    item = {"return_line": request.lines.get(), "quantity": 1, "grade": "new", "disposition": "restock"}
    return_inspect(actor=admin, return_request=request, items=[{**item, "recovered_value": Decimal("17.31")}])

    mine = customer_app_client.get(f"/api/v1/me/returns/{request.pk}/").json()
    staff = manager_client.get(f"/api/v1/returns/{request.pk}/").json()

    assert "inspections" not in mine["lines"][0] and "17.31" not in json.dumps(mine)
    assert staff["lines"][0]["inspections"][0]["recovered_value"] == "17.31"


def test_a_return_where_nothing_arrived_is_inspected_with_no_items_and_resolved(manager_client, admin_user):
    store = admin_user.associate.home_location
    request = make_return(order=make_paid_order(lines=[(ProductFactory(), 1, "25.00")]))
    line = request.lines.get()
    url = f"/api/v1/returns/{request.pk}"
    client = manager_client
    client.force_authenticate(admin_user)

    _post(
        client, f"{url}/receive/", {"location": store.pk, "lines": [{"return_line": line.pk, "quantity_received": 0}]}
    )
    inspected = _post(client, f"{url}/inspect/", {"items": []})
    resolved = _post(client, f"{url}/refund/", {})

    assert inspected.status_code == 200, inspected.content
    assert resolved.status_code == 200 and resolved.json()["refunded_amount"] == "0.00"
    assert not Charge.objects.filter(kind=ChargeKind.REFUND).exists()


def test_a_drop_off_point_finds_the_return_by_its_code_rate_limited(associate_client):
    kiosk = LocationFactory(kind="kiosk")
    order = make_paid_order(lines=[(ProductFactory(), 1, "25.00")])
    request = make_return(order=order, method="kiosk_drop_off", drop_off_location=kiosk)
    typed = request.drop_off_code.replace("-", "").lower()

    found = _post(associate_client, "/api/v1/returns/lookup/", {"code": typed})
    unknown = _post(associate_client, "/api/v1/returns/lookup/", {"code": "AAAA-BBBB-CCCCC"})
    guesses = [_post(associate_client, "/api/v1/returns/lookup/", {"code": "X"}).status_code for _ in range(12)]

    assert found.status_code == 200 and found.json()["number"] == request.number
    assert "drop_off_code" not in found.json()  # staff never read it back
    assert unknown.status_code == 404
    assert 429 in guesses
