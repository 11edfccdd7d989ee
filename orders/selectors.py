"""Reads of orders shaped for the API and the pages, with the joins they need."""

import re

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


def _timestamp_sql(column: str) -> str:
    """A timestamp as the API writes it (ISO 8601 in UTC with a Z; the microseconds only when
    there are some, as Python's isoformat() does)."""
    return (
        f"(to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS')"
        f" || CASE WHEN to_char({column}, 'US') = '000000' THEN '' ELSE to_char({column}, '.US') END || 'Z')"
    )


# The order detail in the API's shape, key for key, built by PostgreSQL in the order's own query:
# every section of the ORM read of order_detail() with its ordering, decimals as text, timestamps
# through TS(). Three values come raw for Python to finish (orders.api.orders.order_representation)
# where the rule lives in Python: the customer's and the associate's names, the delivery address,
# and each message's secrets (masked there); the charges come as entries, the ledger's sums are
# added in Python by ledger_from_rows(). Constant SQL, no input: the order is the outer query's row.
_ORDER_DETAIL_SQL = """
SELECT json_build_object(
  'id', o.id, 'number', o.number,
  'customer', (SELECT json_build_object('id', c.id, 'number', c.number,
                                        'name', json_build_array(c.given_name, c.family_name))
               FROM core_customer c WHERE c.id = o.customer_id),
  'channel', o.channel, 'source', o.source, 'external_id', o.external_id, 'status', o.status,
  'currency', o.currency, 'total', o.total::text, 'placed_at', TS(o.placed_at), 'fulfilment', o.fulfilment,
  'promised_date', o.promised_date,
  'at_risk', CASE WHEN o.at_risk_since IS NOT NULL THEN json_build_object(
               'reason', o.at_risk_reason, 'since', TS(o.at_risk_since), 'revised_estimate', o.revised_estimate) END,
  'location', (SELECT json_build_object('id', x.id, 'code', x.code, 'name', x.name)
               FROM core_location x WHERE x.id = o.location_id),
  'associate', (SELECT json_build_array(u.first_name, u.last_name, u.email)
                FROM core_user u WHERE u.id = o.associate_id),
  'service_level', o.service_level,
  'lines', COALESCE((
    SELECT json_agg(json_build_object(
             'id', l.id, 'product', json_build_object('id', p.id, 'sku', p.sku, 'name', p.name),
             'quantity', l.quantity, 'unit_price', l.unit_price::text, 'discount', l.discount::text,
             'tax', l.tax::text, 'amount', (l.quantity * l.unit_price - l.discount + l.tax)::text,
             'promised_date', l.promised_date, 'quantity_shipped', l.quantity_shipped,
             'quantity_delivered', l.quantity_delivered, 'quantity_cancelled', l.quantity_cancelled)
           ORDER BY l.id)
    FROM orders_orderline l JOIN core_product p ON p.id = l.product_id WHERE l.order_id = o.id), '[]'),
  'charges', COALESCE((
    SELECT json_agg(json_build_object(
             'id', ch.id, 'kind', ch.kind, 'status', ch.status, 'amount', ch.amount::text,
             'currency', ch.currency, 'reference', ch.reference, 'shipment', ch.shipment_id, 'note', ch.note,
             'created_at', TS(ch.created_at), 'settled_at', TS(ch.settled_at))
           ORDER BY ch.id)
    FROM orders_charge ch WHERE ch.order_id = o.id), '[]'),
  'shipments', COALESCE((
    SELECT json_agg(json_build_object(
             'id', s.id, 'number', s.number, 'carrier', ca.name, 'tracking_number', s.tracking_number,
             'tracking_url', CASE WHEN ca.tracking_url <> ''
                                  THEN replace(ca.tracking_url, '{tracking_number}', s.tracking_number) ELSE '' END,
             'service_level', s.service_level, 'status', s.status,
             'estimated_delivery', TS(s.estimated_delivery), 'shipped_at', TS(s.shipped_at),
             'delivered_at', TS(s.delivered_at),
             'pickup_location', (SELECT json_build_object('id', x.id, 'code', x.code, 'name', x.name)
                                 FROM core_location x WHERE x.id = s.pickup_location_id),
             'lines', COALESCE((
               SELECT json_agg(json_build_object('order_line', sl.order_line_id, 'quantity', sl.quantity)
                               ORDER BY sl.id)
               FROM orders_shipmentline sl WHERE sl.shipment_id = s.id), '[]'),
             'events', COALESCE((
               SELECT json_agg(json_build_object('status', e.status, 'occurred_at', TS(e.occurred_at),
                                                 'description', e.description, 'place', e.place)
                               ORDER BY e.occurred_at DESC, e.id DESC)
               FROM (SELECT e.id, e.status, e.occurred_at, e.description, e.place
                     FROM orders_trackingevent e WHERE e.shipment_id = s.id
                     ORDER BY e.occurred_at DESC, e.id DESC LIMIT EVENTS_SHOWN) e), '[]'))
           ORDER BY s.shipped_at DESC, s.id DESC)
    FROM orders_shipment s JOIN orders_carrier ca ON ca.id = s.carrier_id WHERE s.order_id = o.id), '[]'),
  'deliveries', COALESCE((
    SELECT json_agg(json_build_object(
             'id', d.id, 'number', d.number, 'status', d.status, 'service', d.service,
             'window_start', TS(d.window_start), 'window_end', TS(d.window_end),
             'address', json_build_array(d.address_line1, d.address_line2, d.postcode, d.city, d.country),
             'instructions', d.instructions,
             'lines', COALESCE((
               SELECT json_agg(json_build_object('order_line', dl.order_line_id, 'quantity', dl.quantity,
                                                 'quantity_received', dl.quantity_received,
                                                 'condition', dl.condition)
                               ORDER BY dl.id)
               FROM orders_deliveryline dl WHERE dl.delivery_id = d.id), '[]'))
           ORDER BY d.window_start, d.id)
    FROM orders_delivery d WHERE d.order_id = o.id), '[]'),
  'delivery_exceptions', COALESCE((
    SELECT json_agg(json_build_object(
             'id', x.id, 'delivery', x.delivery_id, 'kind', x.kind, 'status', x.status, 'remedy', x.remedy,
             'opened_at', TS(x.opened_at), 'resolved_at', TS(x.resolved_at))
           ORDER BY x.opened_at, x.id)
    FROM orders_deliveryexception x WHERE x.order_id = o.id), '[]'),
  'pickups', COALESCE((
    SELECT json_agg(json_build_object(
             'id', pk.id, 'number', pk.number, 'status', pk.status,
             'location', json_build_object('id', x.id, 'code', x.code, 'name', x.name),
             'ready_at', TS(pk.ready_at), 'expires_at', TS(pk.expires_at), 'collected_at', TS(pk.collected_at),
             'lines', COALESCE((
               SELECT json_agg(json_build_object('order_line', pl.order_line_id, 'quantity', pl.quantity)
                               ORDER BY pl.id)
               FROM orders_pickupline pl WHERE pl.pickup_id = pk.id), '[]'))
           ORDER BY pk.expires_at, pk.id)
    FROM orders_pickup pk JOIN core_location x ON x.id = pk.location_id WHERE pk.order_id = o.id), '[]'),
  'messages', COALESCE((
    SELECT json_agg(json_build_object(
             'id', n.id, 'event', n.event, 'channel', n.channel, 'subject', n.subject, 'status', n.status,
             'created_at', TS(n.created_at), 'sent_at', TS(n.sent_at), 'secrets', n.secrets)
           ORDER BY n.created_at DESC, n.id DESC)
    FROM (SELECT n.id, n.event, n.channel, n.subject, n.status, n.created_at, n.sent_at, n.secrets
          FROM core_notification n
          WHERE n.order_number = o.number AND n.customer_id = o.customer_id
          ORDER BY n.created_at DESC, n.id DESC LIMIT MESSAGES_SHOWN) n), '[]')
)::text
FROM orders_order o WHERE o.id = orders_order.id"""
_ORDER_DETAIL_SQL = re.sub(r"TS\(([\w.]+)\)", lambda m: _timestamp_sql(m.group(1)), _ORDER_DETAIL_SQL)
_ORDER_DETAIL_SQL = _ORDER_DETAIL_SQL.replace("LIMIT EVENTS_SHOWN", f"LIMIT {EVENTS_SHOWN}").replace(
    "LIMIT MESSAGES_SHOWN", f"LIMIT {MESSAGES_SHOWN}"
)


def order_record() -> QuerySet[Order]:
    """The order as the API's detail shows it. On PostgreSQL in one query whatever the order's
    size: the whole detail comes as one JSON text in the API's shape (`detail_json`), so no model
    is built for its hundred-odd rows and tracking events are cut to EVENTS_SHOWN in SQL; elsewhere
    the prefetch tree of order_detail() (and order_messages())."""
    if connection.vendor != "postgresql":
        return order_detail()
    return Order.objects.only("id", "customer_id").annotate(
        detail_json=RawSQL(_ORDER_DETAIL_SQL, (), output_field=TextField())  # noqa: S611 constant SQL, no input
    )
