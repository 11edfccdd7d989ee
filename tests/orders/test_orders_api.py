"""The orders API as tills, web shops, agents and the customer's app call it."""

import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.services.notifications import notify
from orders.models import Order
from tests.factories import (
    CustomerFactory,
    LocationFactory,
    ProductFactory,
    make_delivery,
    make_order,
    make_shipment,
)

pytestmark = pytest.mark.django_db


def _post(client, url, body):
    return client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))


@pytest.fixture
def sofa():
    return ProductFactory(sku="SOFA-3", name="Sofa, three-piece", price=Decimal("899.00"))


def _order_body(customer, sofa, **extra):
    return {
        "customer": customer.number,
        "channel": "web",
        "fulfilment": "delivery",
        "promised_date": "2026-12-20",
        "lines": [{"product": sofa.sku, "quantity": 3, "unit_price": "299.00"}],
        **extra,
    }


def test_an_associate_records_a_sale_and_is_named_on_it(associate_client, associate, customer, sofa):
    response = _post(associate_client, "/api/v1/orders/", _order_body(customer, sofa, channel="store"))
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["total"] == "897.00" and data["status"] == "placed"
    assert data["charges"]["pending_charges"] == "897.00" and data["charges"]["past_charges"] == "0.00"
    assert data["lines"][0]["product"]["sku"] == "SOFA-3"
    assert Order.objects.get(number=data["number"]).associate == associate
    assert response["Location"].endswith(f"/orders/{data['id']}/")


def test_a_selling_system_upserts_by_external_id(integration_client, customer, sofa):
    url = "/api/v1/orders/external/ecommerce/WEB-1001/"
    first = integration_client.put(url, _order_body(customer, sofa), format="json")
    again = integration_client.put(url, _order_body(customer, sofa, promised_date="2026-12-22"), format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert again.json()["promised_date"] == "2026-12-22"
    assert Order.objects.filter(external_id="WEB-1001").count() == 1


def test_upsert_with_an_unknown_source_or_a_long_id_is_400(integration_client, customer, sofa):
    assert (
        integration_client.put("/api/v1/orders/external/fax/1/", _order_body(customer, sofa), format="json").status_code
        == 400
    )
    long_id = "x" * 65
    response = integration_client.put(
        f"/api/v1/orders/external/pos/{long_id}/", _order_body(customer, sofa), format="json"
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("client_name", "create", "upsert"),
    [
        ("associate_client", 201, 403),
        ("agent_client", 201, 403),
        ("manager_client", 201, 201),
        ("admin_client_api", 201, 201),
        ("integration_client", 201, 201),
        ("customer_app_client", 403, 403),
        ("roleless_client", 403, 403),
        ("anon_client", 401, 401),
    ],
)
def test_who_may_create_and_upsert_orders(request, client_name, create, upsert, customer, sofa):
    client = request.getfixturevalue(client_name)
    assert _post(client, "/api/v1/orders/", _order_body(customer, sofa)).status_code == create
    url = f"/api/v1/orders/external/pos/{client_name}/"
    assert client.put(url, _order_body(customer, sofa), format="json").status_code == upsert


@pytest.mark.parametrize(
    "body",
    [
        {"lines": "sofa"},
        {"lines": []},
        {"lines": [{"product": "NOPE", "quantity": 1, "unit_price": "1.00"}]},
        {"lines": [{"product": "SOFA-3", "quantity": 0, "unit_price": "1.00"}]},
        {"lines": [{"product": "SOFA-3", "quantity": "many", "unit_price": "1.00"}]},
        {"lines": [{"product": "SOFA-3", "quantity": 1, "unit_price": "-1"}]},
        {"lines": [{"product": "SOFA-3", "quantity": 1, "unit_price": "1e400"}]},
        {"payments": [{"kind": "refund", "amount": "897.00"}]},
        {"payments": [{"kind": "capture", "amount": "1.00"}]},
        {"customer": "C-NOBODY"},
        {"surprise": True},
        {"external_id": "E-1"},
        {"currency": "euro"},
        {"promised_date": "someday"},
    ],
)
def test_bad_orders_are_refused_field_by_field_and_nothing_is_written(agent_client, customer, sofa, body):
    response = _post(agent_client, "/api/v1/orders/", _order_body(customer, sofa) | body)
    assert response.status_code in (400, 422), response.content
    assert response["Content-Type"].startswith("application/problem+json")
    assert not Order.objects.exists()


def test_malformed_json_is_400(agent_client):
    response = agent_client.post(
        "/api/v1/orders/", "{not json", content_type="application/json", HTTP_IDEMPOTENCY_KEY="k1"
    )
    assert response.status_code == 400


def _bigger(order_count_lines: int):
    lines = [(ProductFactory(), 2, "10.00") for _ in range(order_count_lines)]
    order = make_order(lines=lines)
    for i in range(order_count_lines):
        notify(
            customer=order.customer,
            event="contact_details_changed",
            dedupe_key=f"m{order.pk}-{i}",
            context={"changed": ["phone"], "order": order},
        )
    return order


def _queries(client, url):
    client.get(url)  # warm the caller's permissions
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(ctx), response.json()


def _with_parcels(order, parcels: int):
    lines = list(order.lines.all())
    for i in range(parcels):
        make_shipment(order=order, lines=[(lines[i], 2)])
    make_delivery(order=order, lines=[{"order_line": lines[0], "quantity": 1}])
    return order


# On PostgreSQL the whole detail is one query (selectors.order_record()); elsewhere the order, its
# lines, charges, shipments with their lines and events, deliveries with their lines, exceptions,
# pickups (their lines only when there are pickups) and the messages.
DETAIL_QUERIES = {"postgresql": 1, "sqlite": 11}


def test_the_order_detail_is_one_call_whose_query_count_does_not_grow_with_the_order(agent_client):
    small, big = _with_parcels(_bigger(1), 1), _with_parcels(_bigger(12), 8)
    small_n, _ = _queries(agent_client, f"/api/v1/orders/{small.pk}/")
    big_n, data = _queries(agent_client, f"/api/v1/orders/{big.pk}/")
    assert small_n == big_n == DETAIL_QUERIES[connection.vendor]
    assert len(data["lines"]) == 12 and len(data["messages"]) >= 12 and len(data["shipments"]) == 8
    assert {"shipments", "deliveries", "delivery_exceptions", "pickups", "charges"} <= data.keys()


def test_order_list_runs_constant_queries_and_filters(agent_client):
    orders = [make_order() for _ in range(6)]
    n1, _ = _queries(agent_client, "/api/v1/orders/?page_size=1")
    n6, data = _queries(agent_client, "/api/v1/orders/?page_size=6")
    assert n1 == n6
    assert len(data["results"]) == 6
    one = orders[0]
    filtered = agent_client.get("/api/v1/orders/", {"customer": one.customer.number}).json()["results"]
    assert [row["number"] for row in filtered] == [one.number]
    assert agent_client.get("/api/v1/orders/", {"status": "teleported"}).status_code == 400


def test_cancel_lines_and_settle_the_refund(agent_client, manager_client):
    order = make_order(
        lines=[(ProductFactory(), 2, "25.00")], payments=[{"kind": "capture", "amount": Decimal("50.00")}]
    )
    line = order.lines.get()
    response = _post(
        agent_client,
        f"/api/v1/orders/{order.pk}/cancel-lines/",
        {"lines": [{"line": line.pk, "quantity": 1}], "reason": "broken"},
    )
    assert response.status_code == 200, response.content
    assert response.json()["lines"][0]["quantity_cancelled"] == 1
    refund = order.charges.get(kind="refund")

    assert _post(agent_client, f"/api/v1/orders/{order.pk}/charges/{refund.pk}/settle/", {}).status_code == 403
    settled = _post(manager_client, f"/api/v1/orders/{order.pk}/charges/{refund.pk}/settle/", {"reference": "PSP-7"})
    assert settled.status_code == 200 and settled.json()["status"] == "settled"
    again = _post(manager_client, f"/api/v1/orders/{order.pk}/charges/{refund.pk}/settle/", {})
    assert again.status_code == 409
    ledger = agent_client.get(f"/api/v1/orders/{order.pk}/charges/").json()
    assert (ledger["past_charges"], ledger["pending_charges"]) == ("25.00", "0.00")


def test_cancel_lines_of_another_orders_line_is_422(agent_client):
    order, other = make_order(), make_order()
    response = _post(
        agent_client,
        f"/api/v1/orders/{order.pk}/cancel-lines/",
        {"lines": [{"line": other.lines.get().pk, "quantity": 1}], "reason": "x"},
    )
    assert response.status_code == 422


def test_a_customer_sees_their_own_orders_only(customer_app_client, customer):
    mine, theirs = make_order(customer=customer), make_order(customer=CustomerFactory())
    listed = customer_app_client.get("/api/v1/me/orders/").json()["results"]
    assert [row["number"] for row in listed] == [mine.number]
    assert customer_app_client.get(f"/api/v1/me/orders/{mine.pk}/").status_code == 200
    assert customer_app_client.get(f"/api/v1/me/orders/{theirs.pk}/").status_code == 404
    assert customer_app_client.get(f"/api/v1/orders/{mine.pk}/").status_code == 403


def test_the_order_lists_at_risk_orders_for_associates(associate_client):
    late = make_order(location=LocationFactory())
    Order.objects.filter(pk=late.pk).update(at_risk_since="2026-11-20T10:00:00Z", at_risk_reason="carrier_late")
    make_order()
    rows = associate_client.get("/api/v1/orders/", {"at_risk": "true"}).json()["results"]
    assert [row["number"] for row in rows] == [late.number]
    assert rows[0]["at_risk"]["reason"] == "carrier_late"
