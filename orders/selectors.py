"""Reads of orders shaped for the API and the pages, with the joins they need."""

from django.db import connection
from django.db.models import Prefetch, QuerySet, TextField
from django.db.models.expressions import RawSQL

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


def order_record() -> QuerySet[Order]:
    """The order as the API's detail shows it. On PostgreSQL in the order's own query whatever its
    size: the whole detail comes as one JSON text in the API's shape (`detail_json`), built by the
    function `orders_order_detail` (migration 0008: planned once per connection, so the request
    pays neither the ORM's prefetch tree nor the planning of sixteen subqueries), with tracking
    events cut to EVENTS_SHOWN in SQL. Elsewhere the prefetch tree of order_detail()."""
    if connection.vendor != "postgresql":
        return order_detail()
    return Order.objects.only("id", "customer_id").annotate(
        detail_json=RawSQL(
            "orders_order_detail(orders_order.id, %s, %s)", (EVENTS_SHOWN, MESSAGES_SHOWN), output_field=TextField()
        )
    )
