"""Every message about an order is filed under it (the agent sees it on the order), and the
secrets in those messages are the customer's alone."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.models import Notification
from orders.services.deliveries import delivery_record, delivery_reminders_send
from orders.services.pickups import pickups_sweep
from orders.services.tracking import tracking_event_apply
from tests.factories import CustomerFactory, make_delivery, make_order, make_pickup, make_shipment

pytestmark = pytest.mark.django_db


@pytest.fixture
def reachable():
    return CustomerFactory(consent_email=True, preferred_channel="email")


def test_messages_of_every_flow_carry_their_order_number(reachable, agent_client):
    pickup = make_pickup(customer=reachable)
    pickups_sweep(now=pickup.expires_at + timedelta(minutes=1))  # reminder, then no-show

    delivery = make_delivery(order=make_order(customer=reachable), window_start=timezone.now() + timedelta(hours=3))
    delivery_reminders_send()
    counted = [
        {"order_line": line.order_line_id, "quantity_received": 0, "condition": "good"} for line in delivery.lines.all()
    ]
    delivery_record(actor=None, delivery=delivery, lines=counted)

    shipment = make_shipment(order=make_order(customer=reachable))
    tracking_event_apply(
        carrier=shipment.carrier,
        event_id="E-1",
        tracking_number=shipment.tracking_number,
        status="delivered",
        occurred_at=timezone.now(),
    )

    messages = Notification.objects.filter(customer=reachable)
    events = set(messages.values_list("event", flat=True))
    assert {"pickup_ready", "pickup_expired", "delivery_scheduled", "delivery_coming", "delivery_exception"} <= events
    assert {"order_shipped", "shipment_delivered"} <= events
    assert not messages.filter(order_number="").exists(), list(messages.filter(order_number="").values("event"))

    ready = messages.get(event="pickup_ready")
    assert pickup.code in ready.body
    staff_view = agent_client.get(f"/api/v1/notifications/{ready.pk}/").json()
    assert pickup.code not in staff_view["body"]
    order_view = agent_client.get(f"/api/v1/orders/{pickup.order_id}/").json()
    assert {"pickup_ready", "pickup_expired"} <= {m["event"] for m in order_view["messages"]}
