"""The order detail's hand-built output (one JSON query on PostgreSQL, the ORM's rows elsewhere)
says exactly what the declared DRF serializers say, key for key and in the same order."""

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework import serializers as drf

from core.choices import Role
from core.models import Notification
from orders import selectors
from orders.api.orders import OrderDetailOut, order_representation
from orders.models import DeliveryException, Order, Pickup, PickupLine, TrackingEvent
from orders.services.deliveries import delivery_record
from orders.services.delivery_exceptions import exception_goodwill
from tests.factories import (
    AssociateProfileFactory,
    CarrierFactory,
    CustomerAddressFactory,
    CustomerFactory,
    LocationFactory,
    ProductFactory,
    make_delivery,
    make_order,
    make_shipment,
)

pytestmark = pytest.mark.django_db


def _drf(order_id: int) -> str:
    """What the declared serializers render for the order read the ORM way, as JSON text (so the
    comparison sees the keys' order too)."""
    order = selectors.order_detail().get(pk=order_id)
    return json.dumps(drf.Serializer.to_representation(OrderDetailOut(), order))


def _hand_built(order_id: int) -> str:
    return json.dumps(order_representation(selectors.order_record().get(pk=order_id)))


def _rich_order() -> Order:
    """One order with every kind of child: lines with discounts, taxes and promises, a ledger with
    a capture, a hold, a credit and a refund, two parcels (one with more tracking events than are
    shown, ties and whole seconds among them, and a pickup point), a delivery with an exception,
    a pickup, and messages, one with a secret in its subject; placed in a store by a named
    associate, with a promise and a delay warning."""
    store = LocationFactory()
    seller = AssociateProfileFactory(user__first_name="Noor", user__last_name="Visser", user__roles=[Role.MANAGER])
    customer = CustomerFactory(given_name="Anna", family_name="de Vries")
    lines = [
        {
            "product": ProductFactory(name=f"Chair {i}"),
            "quantity": i + 1,
            "unit_price": Decimal("19.95"),
            "discount": Decimal("1.10") if i % 2 else Decimal("0"),
            "tax": Decimal("0.35"),
            "promised_date": date(2026, 12, 20) if i == 0 else None,
        }
        for i in range(4)
    ]
    order = make_order(
        customer=customer,
        lines=lines,
        location=store,
        associate=seller.user,
        fulfilment="delivery",
        promised_date=date(2026, 12, 22),
    )
    first, second, third, fourth = order.lines.order_by("id")
    tracked = make_shipment(
        order=order,
        carrier=CarrierFactory(tracking_url="https://track.example/{tracking_number}?again={tracking_number}"),
        lines=[(first, 1), (second, 2)],
        estimated_delivery=datetime(2026, 12, 21, 12, 0, tzinfo=UTC),
        pickup_location=LocationFactory(kind="pickup_point"),
    )
    make_shipment(order=order, carrier=CarrierFactory(tracking_url=""), lines=[(third, 3)])
    start = timezone.now().replace(microsecond=0) - timedelta(days=2)
    TrackingEvent.objects.bulk_create(
        TrackingEvent(
            carrier=tracked.carrier,
            shipment=tracked,
            event_id=f"E{i}",
            tracking_number=tracked.tracking_number,
            status="in_transit",
            occurred_at=start + timedelta(minutes=i // 2, microseconds=0 if i % 3 else 1234),
            description=f"Scan {i}" if i % 4 else "",
            place="Utrecht" if i % 2 else "",
        )
        for i in range(selectors.EVENTS_SHOWN + 5)
    )
    delivery = make_delivery(
        order=order,
        instructions="Ring twice",
        address=CustomerAddressFactory(customer=customer, line2=""),
        lines=[{"order_line": first, "quantity": 1}],
    )
    delivery_record(
        actor=None,
        delivery=delivery,
        lines=[{"order_line": first.pk, "quantity_received": 0, "condition": "good"}],
    )
    exception_goodwill(
        actor=seller.user, exception=DeliveryException.objects.get(order=order), amount=Decimal("5.00"), note="sorry"
    )
    pickup = Pickup.objects.create(
        order=order,
        customer=customer,
        location=LocationFactory(kind="locker"),
        code="QX7K2M9PVB4RT3H",
        expires_at=timezone.now() + timedelta(days=7),
    )
    PickupLine.objects.create(pickup=pickup, order_line=fourth, quantity=4)
    Notification.objects.create(
        customer=customer,
        event="pickup_ready",
        channel="sms",
        recipient="+31612345678",
        subject=f"Your code is {pickup.code}",
        body=f"Collect with {pickup.code}",
        dedupe_key="test-pickup-code",
        order_number=order.number,
        secrets=[pickup.code],
        sent_at=timezone.now().replace(microsecond=0),
    )
    Order.objects.filter(pk=order.pk).update(
        at_risk_reason="carrier_late",
        at_risk_since=timezone.now(),
        revised_estimate=date(2026, 12, 24),
        external_id="WEB-77",
        source="ecommerce",
    )
    return order


def test_a_rich_order_is_represented_as_the_drf_serializers_do(agent_client):
    order = _rich_order()
    expected = _drf(order.pk)

    assert _hand_built(order.pk) == expected
    response = agent_client.get(f"/api/v1/orders/{order.pk}/")
    assert response.status_code == 200
    assert json.dumps(response.json()) == expected

    data = json.loads(expected)  # the order really has every kind of child
    assert all(data[key] for key in ("lines", "shipments", "deliveries", "delivery_exceptions", "pickups"))
    assert data["associate"] == "Noor Visser" and data["at_risk"] and data["location"]
    assert max(len(shipment["events"]) for shipment in data["shipments"]) == selectors.EVENTS_SHOWN
    assert {"authorisation", "capture", "goodwill_credit"} <= {entry["kind"] for entry in data["charges"]["entries"]}
    assert "Your code is ••••••" in {message["subject"] for message in data["messages"]}
    assert "QX7K2M9PVB4RT3H" not in response.content.decode()


def test_a_bare_order_and_the_customers_own_view_are_represented_as_drf_does(customer_app_client, customer):
    bare = make_order(customer=customer)
    assert _hand_built(bare.pk) == _drf(bare.pk)
    response = customer_app_client.get(f"/api/v1/me/orders/{bare.pk}/")
    assert json.dumps(response.json()) == _drf(bare.pk)


def test_an_associate_without_a_name_is_shown_by_email():
    seller = AssociateProfileFactory(user__first_name="", user__last_name="", user__email="till-3@example.com").user
    order = make_order(associate=seller, location=LocationFactory())
    data = json.loads(_hand_built(order.pk))
    assert data["associate"] == "till-3@example.com"
    assert _hand_built(order.pk) == _drf(order.pk)
