"""Handing goods to a carrier: the shipment and its lines, the capture of what shipped, and the
customer's "on its way" message."""

from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from core.choices import TouchpointKind
from core.errors import Conflict, RuleViolation
from core.models import Location
from core.services.notifications import notify
from core.services.timeline import touchpoint_record
from core.timezones import zone_or_utc
from orders.models import Carrier, Order, OrderLine, Shipment, ShipmentLine
from orders.services.charges import charges_capture, units_value
from orders.services.orders import order_lock, order_status_refresh
from orders.services.tracking import tracking_events_adopt, tracking_url


def _requested(lines) -> dict[int, int]:
    """{order line id: quantity} from (line or id, quantity) pairs or {"order_line", "quantity"} dicts."""
    if not lines:
        raise RuleViolation("A shipment holds at least one line.", code="no_lines")
    wanted: dict[int, int] = {}
    for entry in lines:
        ref, quantity = (entry["order_line"], entry["quantity"]) if isinstance(entry, dict) else entry
        line_id = getattr(ref, "pk", ref)
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise RuleViolation(f"Line {line_id}: ship a whole number of units, at least 1.", code="quantity")
        if line_id in wanted:
            raise RuleViolation(f"Line {line_id} is named twice; give it once with its quantity.", code="line_twice")
        wanted[line_id] = quantity
    return wanted


def shipment_create(
    *,
    actor,
    order: Order,
    carrier: Carrier,
    tracking_number: str,
    lines,
    service_level: str | None = None,
    estimated_delivery: datetime | None = None,
    pickup_location: Location | None = None,
    shipped_at: datetime | None = None,
) -> Shipment:
    """Record that `lines` (order line or id, quantity) left with `carrier`, under the order's lock.

    Each line ships at most what is neither cancelled nor shipped yet. The value of the units that
    shipped is captured from the hold (all of what is left of it when nothing remains to ship), the
    order's status follows, and tracking events the carrier sent before we knew the parcel are
    applied. A tracking number is unique per carrier (409)."""
    wanted = _requested(lines)
    tracking_number = tracking_number.strip()
    if not tracking_number:
        raise RuleViolation("A shipment needs the carrier's tracking number.", code="tracking_number")
    if not carrier.is_active:
        raise RuleViolation(f"{carrier.name} is not an active carrier.", code="carrier_inactive")
    with transaction.atomic():
        order = order_lock(order.pk)
        order_lines = {line.pk: line for line in OrderLine.objects.filter(order=order).select_related("product")}
        for line_id, quantity in wanted.items():
            line = order_lines.get(line_id)
            if line is None:
                raise RuleViolation(f"Line {line_id} is not on order {order.number}.", code="line", line=line_id)
            left = line.active_quantity - line.quantity_shipped
            if quantity > left:
                raise RuleViolation(
                    f"{line.product.name} (line {line.pk}): {left} unit(s) left to ship, not {quantity}.",
                    code="quantity",
                    line=line.pk,
                    left=left,
                )
        shipment = _insert_shipment(
            order=order,
            carrier=carrier,
            tracking_number=tracking_number,
            service_level=service_level or order.service_level,
            estimated_delivery=estimated_delivery,
            pickup_location=pickup_location,
            shipped_at=shipped_at or timezone.now(),
        )
        ShipmentLine.objects.bulk_create(
            ShipmentLine(shipment=shipment, order_line_id=line_id, quantity=quantity)
            for line_id, quantity in wanted.items()
        )
        value = _mark_shipped(order, order_lines, wanted)
        final = all(line.quantity_shipped >= line.active_quantity for line in order_lines.values())
        charges_capture(order=order, value=value, shipment=shipment, actor=actor, final=final)
        order_status_refresh(order)
        later = tracking_events_adopt(shipment=shipment, order=order)
        _tell_customer(order, shipment, carrier, [(order_lines[i], q) for i, q in wanted.items()], actor)
        later()
    return shipment


def _insert_shipment(*, order, carrier, tracking_number, **fields) -> Shipment:
    taken = Conflict(
        f"{carrier.name} tracking number {tracking_number} belongs to another shipment already.",
        code="duplicate_tracking_number",
    )
    if Shipment.objects.filter(carrier=carrier, tracking_number=tracking_number).exists():
        raise taken
    shipment = Shipment(order=order, carrier=carrier, tracking_number=tracking_number, **fields)
    try:
        with transaction.atomic():
            shipment.save(force_insert=True)
    except IntegrityError as exc:  # created concurrently for another order
        raise taken from exc
    return shipment


def _mark_shipped(order: Order, order_lines: dict[int, OrderLine], wanted: dict[int, int]) -> Decimal:
    """Raise each line's shipped count by conditional UPDATE; return the value of the units shipped.
    Differences of `units_value` make a line's partial shipments add up to exactly its amount."""
    value = Decimal("0")
    for line_id, quantity in wanted.items():
        line = order_lines[line_id]
        updated = OrderLine.objects.filter(
            pk=line_id, quantity_shipped__lte=F("quantity") - F("quantity_cancelled") - quantity
        ).update(quantity_shipped=F("quantity_shipped") + quantity)
        if not updated:  # the order lock makes this unreachable; the UPDATE's condition is the rule
            raise Conflict(f"Line {line_id} changed while it was being shipped; try again.", code="line_changed")
        before = line.quantity_shipped
        line.quantity_shipped += quantity
        value += units_value(line, line.quantity_shipped, order.currency) - units_value(line, before, order.currency)
    return value


def _tell_customer(order: Order, shipment: Shipment, carrier: Carrier, shipped: list[tuple[OrderLine, int]], actor):
    items = ", ".join(f"{quantity} × {line.product.name}" for line, quantity in shipped)
    estimate = shipment.estimated_delivery
    customer = order.customer
    estimated_date = estimate.astimezone(zone_or_utc(customer.time_zone)).date() if estimate else None
    touchpoint_record(
        customer=customer,
        kind=TouchpointKind.DELIVERY,
        channel=order.channel,
        summary=f"Shipped {items} with {carrier.name}, tracking {shipment.tracking_number}",
        # the associate who packed it, on the timeline; not a system account
        associate=actor if getattr(actor, "associate", None) is not None else None,
        location=shipment.pickup_location,
        product=shipped[0][0].product if len(shipped) == 1 else None,
        order_number=order.number,
        subject=shipment,
        occurred_at=shipment.shipped_at,
    )
    notify(
        customer=customer,
        event="order_shipped",
        dedupe_key=f"order-shipped:{shipment.number}",
        context={
            "order": order,
            "shipment": shipment,
            "carrier": carrier,
            "items": items,
            "estimated_date": estimated_date,
            "tracking_url": tracking_url(carrier, shipment.tracking_number),
        },
    )
