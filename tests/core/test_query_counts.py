"""Lists run a fixed number of queries whatever the page size: API endpoints and admin change lists."""

from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.models import Skill
from core.services.notifications import notify
from orders.models import Order, OrderLine
from tests.factories import (
    AssociateProfileFactory,
    CustomerAddressFactory,
    CustomerFactory,
    InventoryFactory,
    LocationFactory,
    ProductFactory,
    TouchpointFactory,
    make_delivery,
    make_order,
    make_paid_order,
    make_pickup,
    make_return,
    make_shipment,
    make_voucher,
)

pytestmark = pytest.mark.django_db

ROWS = 30


@pytest.fixture
def many(customer):
    store = LocationFactory()
    skills = [Skill.objects.create(code=f"s{i}", name=f"Skill {i}") for i in range(3)]
    for i in range(ROWS):
        other = CustomerFactory()
        CustomerAddressFactory(customer=other)
        product = ProductFactory()
        InventoryFactory(product=product, location=store)
        profile = AssociateProfileFactory(home_location=store, user__roles=["associate"])
        profile.skills.add(*skills)
        TouchpointFactory(customer=customer, location=store, product=product, associate=profile.user)
        notify(customer=customer, event="contact_details_changed", dedupe_key=f"n{i}", context={"changed": []})
        order = Order.objects.create(customer=other, channel="store", location=store)
        OrderLine.objects.create(order=order, product=product, quantity=1, unit_price=10)
        LocationFactory()
    for _ in range(3):  # enough rows of each orders table for an N+1 to show (1 row against 3)
        _fulfilment_rows()
        _voucher_rows(customer)
        _return_rows(store)
        _appointment_rows(store)
    return customer


def _appointment_rows(store):
    """An associate with hours and an absence, and a booked appointment."""
    from datetime import datetime, time, timedelta

    from django.utils import timezone

    from installations.models import Absence, ServiceType, WorkingHours
    from installations.services import appointment_book

    service, _ = ServiceType.objects.get_or_create(
        code="fit", defaults={"name": "Fitting", "kind": "assembly", "place": "store", "duration_minutes": 60}
    )
    fitter = AssociateProfileFactory(home_location=store, user__roles=["associate"])
    for weekday in range(7):
        WorkingHours.objects.create(associate=fitter, weekday=weekday, starts=time(8), ends=time(18))
    start = datetime.combine(timezone.localdate() + timedelta(days=9), time(10), tzinfo=timezone.get_current_timezone())
    Absence.objects.create(associate=fitter, starts_at=start + timedelta(days=1), ends_at=start + timedelta(days=2))
    line = make_paid_order(lines=[(ProductFactory(), 1, "10.00")]).lines.get()
    appointment_book(actor=None, order_line=line, service_type=service, associate=fitter, starts_at=start)


def _return_rows(store):
    """A return that went the whole way (lines, inspected items), and a return rule."""
    from returns.models import ReturnRule
    from returns.services.returns import return_inspect, return_receive, return_refund

    admin = AssociateProfileFactory(home_location=store, user__roles=["admin"]).user
    ReturnRule.objects.create(product=ProductFactory(), window_days=60)
    request = make_return(order=make_paid_order(lines=[(ProductFactory(), 1, "20.00"), (ProductFactory(), 1, "5.00")]))
    request = return_receive(actor=admin, return_request=request, location=store)
    items = [
        {"return_line": line, "quantity": 1, "grade": "new", "disposition": "restock", "recovered_value": 1}
        for line in request.lines.all()
    ]
    return_refund(actor=admin, return_request=return_inspect(actor=admin, return_request=request, items=items))


def _voucher_rows(customer):
    """A voucher of the customer paying part of an order, with a till redemption and a reversal."""
    from returns.services.vouchers import voucher_redeem, voucher_reverse

    voucher = make_voucher(customer=customer, amount="60.00")
    order = make_order(customer=customer, lines=[(ProductFactory(), 1, "100.00")])
    spent = voucher_redeem(actor=None, voucher=voucher, amount=Decimal("10"), order=order)
    voucher_redeem(actor=None, voucher=voucher, amount=Decimal("5"), reference="till-1")
    voucher_reverse(actor=None, transaction=spent, reason="till error")


def _fulfilment_rows():
    """A parcel with tracking, a delivery that came short (an exception) and a pickup."""
    from orders.services.deliveries import delivery_record
    from orders.services.tracking import tracking_event_apply

    shipment = make_shipment()
    tracking_event_apply(
        carrier=shipment.carrier,
        event_id=f"e-{shipment.pk}",
        tracking_number=shipment.tracking_number,
        status="in_transit",
        occurred_at=timezone.now(),
    )
    delivery = make_delivery(order=make_order(lines=[(ProductFactory(), 2, "10.00")]))
    counted = [
        {"order_line": line.order_line_id, "quantity_received": 1, "condition": "good"} for line in delivery.lines.all()
    ]
    delivery_record(actor=None, delivery=delivery, lines=counted)
    make_pickup()


def _count(client, url, params):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200, response.content[:300]
    return len(ctx), ctx


def _assert_constant(client, url, small=None, large=None):
    _count(client, url, small or {"page_size": 1})  # warm up: the caller's permissions are cached per request user
    small_n, _ = _count(client, url, small or {"page_size": 1})
    large_n, large_ctx = _count(client, url, large or {"page_size": 25})
    if small_n != large_n:
        sql = "\n".join(q["sql"] for q in large_ctx.captured_queries)
        pytest.fail(f"{url}: {small_n} queries for 1 row, {large_n} for 25:\n{sql}")
    return large_n


API_LISTS = [
    "/api/v1/customers/",
    "/api/v1/locations/",
    "/api/v1/products/",
    "/api/v1/inventory/",
    "/api/v1/associates/",
    "/api/v1/notifications/",
    "/api/v1/vouchers/",
    "/api/v1/returns/",
]


@pytest.mark.parametrize("url", API_LISTS)
def test_staff_list_endpoints_run_constant_queries(url, many, manager_client):
    assert _assert_constant(manager_client, url) <= 6


def test_timeline_runs_constant_queries(many, manager_client):
    assert _assert_constant(manager_client, f"/api/v1/customers/{many.pk}/timeline/") <= 6


@pytest.mark.parametrize("url", ["/api/v1/me/timeline/", "/api/v1/me/notifications/", "/api/v1/me/vouchers/"])
def test_customer_lists_run_constant_queries(url, many, customer_app_client):
    assert _assert_constant(customer_app_client, url) <= 6


@pytest.mark.parametrize("model", list(admin.site._registry), ids=lambda m: m._meta.label)
def test_admin_change_lists_run_constant_queries(model, many, client, admin_user, monkeypatch):
    """One row per page, then 25: the rows shown differ, the number of queries must not."""
    if model._meta.app_label == "workflowapp":  # the test-only model is outside the admin role's grants
        admin_user.user_permissions.add(*Permission.objects.filter(content_type__app_label="workflowapp"))
    client.force_login(admin_user)
    url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
    model_admin = admin.site._registry[model]
    client.get(url)  # warm up
    monkeypatch.setattr(model_admin, "list_per_page", 1)
    small_n, _ = _count(client, url, {})
    monkeypatch.setattr(model_admin, "list_per_page", 25)
    large_n, large_ctx = _count(client, url, {})
    if small_n != large_n:
        sql = "\n".join(q["sql"] for q in large_ctx.captured_queries)
        pytest.fail(f"{url}: {small_n} queries for 1 row, {large_n} for 25:\n{sql}")


def test_customer_detail_runs_one_data_query_on_postgresql(manager_client, customer):
    """The most-read record: its addresses and external ids come in the customer's own query there."""
    CustomerAddressFactory(customer=customer)
    customer.external_ids.create(source="pos", external_id="P-1")
    url = f"/api/v1/customers/{customer.pk}/"
    _count(manager_client, url, {})  # warm up the caller's permissions
    _, ctx = _count(manager_client, url, {})
    data = [q["sql"] for q in ctx.captured_queries if "core_customer" in q["sql"]]
    expected = 1 if connection.vendor == "postgresql" else 3
    assert len(data) == expected, "\n".join(data)
    assert manager_client.get(url).json()["external_ids"] == [{"source": "pos", "external_id": "P-1"}]
