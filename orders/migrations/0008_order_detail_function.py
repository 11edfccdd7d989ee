"""The order detail as one JSON text, built by PostgreSQL (orders.selectors.order_record()).

A PL/pgSQL function rather than the same SQL sent with every request: PostgreSQL parses, analyses
and plans an 8 kB query of sixteen subqueries in about 1.5 ms of CPU, more than it takes to run
it; a function's statements are planned once per connection and the plan is kept (decision 0004).
Nothing on SQLite, whose detail is the ORM's prefetch read.

Each key is in the order of the API's declared fields (orders.api.orders.OrderDetailOut); decimals
as text, timestamps as DRF writes them (ISO 8601 in UTC with a Z, microseconds only when there are
some). Four values come raw for Python to finish where their rule lives in Python: the customer's
and the associate's names, the delivery address and each message's secrets; the ledger's sums are
added there. A change of the shape is a new migration that replaces the function;
tests/orders/test_order_representation.py holds it to the serializers' output.
"""

import re

from django.db import migrations


def _timestamp(column: str) -> str:
    return (
        f"(to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS')"
        f" || CASE WHEN to_char({column}, 'US') = '000000' THEN '' ELSE to_char({column}, '.US') END || 'Z')"
    )


DETAIL = """
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
                       ORDER BY e.occurred_at DESC, e.id DESC LIMIT events_shown) e), '[]'))
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
            ORDER BY n.created_at DESC, n.id DESC LIMIT messages_shown) n), '[]')
  )::text
  FROM orders_order o WHERE o.id = the_order
"""
DETAIL = re.sub(r"TS\(([\w.]+)\)", lambda m: _timestamp(m.group(1)), DETAIL)

CREATE = f"""
CREATE OR REPLACE FUNCTION orders_order_detail(the_order bigint, events_shown integer, messages_shown integer)
RETURNS text LANGUAGE plpgsql STABLE AS $function$
BEGIN
  RETURN ({DETAIL});
END
$function$"""

DROP = "DROP FUNCTION IF EXISTS orders_order_detail(bigint, integer, integer)"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("orders", "0007_charge_kinds_for_returns"), ("core", "0011_notification_order_and_secrets")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
