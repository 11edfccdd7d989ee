"""Reads of orders shaped for the API and the pages, with the joins they need."""

from django.db.models import Prefetch, QuerySet

from core.models import Notification
from orders.models import Delivery, DeliveryException, Order, OrderLine, Pickup, Shipment, TrackingEvent

# The order detail shows this many tracking events per shipment, newest first.
EVENTS_SHOWN = 20
MESSAGES_SHOWN = 50


def order_list() -> QuerySet[Order]:
    return Order.objects.select_related("customer")


def order_detail() -> QuerySet[Order]:
    """Everything an agent sees on one order, in a fixed number of queries whatever its size."""
    return Order.objects.select_related("customer", "location", "associate").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.select_related("product")),
        "charges",
        Prefetch(
            "shipments",
            queryset=Shipment.objects.select_related("carrier", "pickup_location").prefetch_related(
                "lines", Prefetch("events", queryset=TrackingEvent.objects.order_by("-occurred_at", "-id"))
            ),
        ),
        Prefetch("deliveries", queryset=Delivery.objects.prefetch_related("lines")),
        Prefetch("delivery_exceptions", queryset=DeliveryException.objects.order_by("opened_at", "id")),
        Prefetch("pickups", queryset=Pickup.objects.select_related("location").prefetch_related("lines")),
    )


def order_messages(order: Order) -> list[Notification]:
    """What the customer was sent about this order, newest first (index notification_order)."""
    return list(
        Notification.objects.filter(order_number=order.number, customer_id=order.customer_id).order_by(
            "-created_at", "-id"
        )[:MESSAGES_SHOWN]
    )
