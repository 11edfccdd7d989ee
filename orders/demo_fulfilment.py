"""The rows behind a demo order's fulfilment, as the services would have left them: the lines'
progress and the order's status, the charges ledger, parcels with their tracking, delivery
appointments (one in a while short of a piece, still open), pickups (collected, or waiting with a
code) and the orders a late carrier puts at risk. Used by `orders.demo`."""

import secrets
from datetime import datetime, timedelta
from decimal import Decimal

from core.codes import secret_code
from core.demo.story import Story
from core.demo.writer import Batch
from orders.choices import (
    TRANSIT_DAYS,
    ChargeKind,
    ChargeStatus,
    DeliveryService,
    DeliveryStatus,
    ExceptionKind,
    FulfilmentMethod,
    ItemCondition,
    PickupStatus,
    RiskReason,
    ServiceLevel,
    ShipmentStatus,
)
from orders.models import (
    Carrier,
    Charge,
    Delivery,
    DeliveryException,
    DeliveryLine,
    Order,
    OrderLine,
    Pickup,
    PickupLine,
    Shipment,
    ShipmentLine,
    TrackingEvent,
)
from orders.services.orders import derived_status

CARRIERS = {
    "parcelnet": ("ParcelNet", "https://track.parcelnet.example/{tracking_number}"),
    "freightline": ("Freightline", "https://freightline.example/track?n={tracking_number}"),
}
SHORT_DELIVERY_SHARE = 0.1  # of bulky deliveries in the last few days: one piece missing, case open
LATE_PARCEL_SHARE = 0.3  # of parcels still on their way: the carrier's estimate slipped past the promise


def carrier(world, code: str) -> Carrier:
    """The demo carrier `code`, created on first use in a run."""
    key = ("carrier", code)
    if key not in world.memo:
        name, url = CARRIERS[code]
        world.memo[key], _ = Carrier.objects.get_or_create(
            code=code, defaults={"name": name, "tracking_url": url, "webhook_secret": secrets.token_urlsafe(32)}
        )
    return world.memo[key]


def promise(order: Order, days: int) -> None:
    order.promised_date = (order.placed_at + timedelta(days=days)).date()


def settle(batch: Batch, order: Order, lines: list[OrderLine], *, shipped: datetime | None, now: datetime) -> None:
    """The ledger and the status once the story is told: paid at the till, or held at checkout and
    captured when the goods left (the identity past + pending = total holds, as the services keep it)."""
    rows = batch.rows(Charge, "charges")
    total = order.total
    if order.fulfilment == FulfilmentMethod.CARRY_OUT:
        rows.append(_charge(order, ChargeKind.CAPTURE, total, order.placed_at, settled=True))
    else:
        rows.append(_charge(order, ChargeKind.AUTHORISATION, total, order.placed_at, settled=False))
        if shipped is not None and shipped <= now:
            rows.append(_charge(order, ChargeKind.AUTHORISATION, -total, shipped, settled=False, note="captured"))
            rows.append(_charge(order, ChargeKind.CAPTURE, total, shipped, settled=True))
    order.status = derived_status(lines)


def _charge(order: Order, kind: str, amount: Decimal, when: datetime, *, settled: bool, note: str = "") -> Charge:
    return Charge(
        order=order,
        kind=kind,
        status=ChargeStatus.SETTLED if settled else ChargeStatus.PENDING,
        amount=amount,
        currency=order.currency,
        note=note,
        created_at=when,
        settled_at=when if settled else None,
    )


def _progress(lines: list[OrderLine], *, shipped: bool, delivered: bool) -> None:
    for line in lines:
        line.quantity_shipped = line.quantity if shipped else 0
        line.quantity_delivered = line.quantity if delivered else 0


def parcel(story: Story, batch: Batch, order: Order, lines: list[OrderLine], arrives: datetime) -> datetime:
    """A parcel by carrier with its tracking so far. Returns when it left the warehouse."""
    rng, now = story.rng, story.world.now
    order.fulfilment = FulfilmentMethod.DELIVERY
    promise(order, TRANSIT_DAYS[ServiceLevel.STANDARD])
    shipped = story.at(order.placed_at, 0, 17, 21) if arrives - order.placed_at > timedelta(days=1) else order.placed_at
    late = arrives > now and shipped <= now and rng.random() < LATE_PARCEL_SHARE
    estimate = arrives + timedelta(days=2) if late else arrives
    shipment = Shipment(
        order=order,
        carrier=carrier(story.world, "parcelnet"),
        tracking_number=f"PN{rng.randrange(10**11, 10**12)}",
        estimated_delivery=estimate,
        shipped_at=shipped,
    )
    steps = [
        (ShipmentStatus.INFO_RECEIVED, order.placed_at + timedelta(minutes=20), "Label created"),
        (ShipmentStatus.IN_TRANSIT, shipped + timedelta(hours=2), "At the sorting centre"),
        (ShipmentStatus.OUT_FOR_DELIVERY, arrives - timedelta(hours=3), "With the courier"),
        (ShipmentStatus.DELIVERED, arrives, f"Delivered at {story.address.line1}"),
    ]
    happened = [step for step in steps if step[1] <= now]
    if not happened or shipped > now:
        order.promised_date = estimate.date()
        _progress(lines, shipped=False, delivered=False)
        return shipped
    shipment.status, shipment.last_event_at = happened[-1][0], happened[-1][1]
    shipment.delivered_at = arrives if shipment.status == ShipmentStatus.DELIVERED else None
    batch.rows(Shipment, "shipments").append(shipment)
    batch.rows(ShipmentLine).extend(
        ShipmentLine(shipment=shipment, order_line=line, quantity=line.quantity) for line in lines
    )
    batch.rows(TrackingEvent, "tracking events").extend(
        TrackingEvent(
            carrier=shipment.carrier,
            event_id=f"{shipment.tracking_number}-{n}",
            tracking_number=shipment.tracking_number,
            shipment=shipment,
            status=status,
            occurred_at=when,
            description=text,
            estimated_delivery=estimate,
            received_at=when,
        )
        for n, (status, when, text) in enumerate(happened)
    )
    _progress(lines, shipped=True, delivered=shipment.status == ShipmentStatus.DELIVERED)
    if late:
        order.at_risk_reason, order.at_risk_since = (
            RiskReason.CARRIER_LATE,
            now - timedelta(minutes=rng.randint(5, 300)),
        )
        order.revised_estimate = estimate.date()
    return shipped


def appointment(
    story: Story, batch: Batch, order: Order, lines: list[OrderLine], window: datetime, assembly: bool
) -> tuple[datetime, bool]:
    """A white-glove delivery in a four-hour window. Recently, once in a while, a piece did not come:
    the delivery is partial and its shortfall waits in the queue. Returns (loaded on the truck, short)."""
    rng, now = story.rng, story.world.now
    order.fulfilment = FulfilmentMethod.DELIVERY
    order.promised_date = window.date()
    address = story.address
    loaded = window - timedelta(hours=6)
    done = window + timedelta(hours=1) <= now
    short = done and now - window < timedelta(days=4) and rng.random() < SHORT_DELIVERY_SHARE
    status = DeliveryStatus.SCHEDULED
    if done:
        status = DeliveryStatus.PARTIALLY_DELIVERED if short else DeliveryStatus.DELIVERED
    delivery = Delivery(
        order=order,
        customer=order.customer,
        window_start=window,
        window_end=window + timedelta(hours=4),
        address_line1=address.line1,
        address_line2=address.line2,
        city=address.city,
        postcode=address.postcode,
        country=address.country,
        service=DeliveryService.ASSEMBLY if assembly else DeliveryService.WHITE_GLOVE,
        status=status,  # protected by the state machine: set once, when the row is built
        recorded_at=window + timedelta(hours=1) if done else None,
        reminded_at=window - timedelta(hours=20) if window - timedelta(hours=20) <= now else None,
        created_at=order.placed_at,
    )
    missing = lines[0] if short else None
    delivery_lines = [
        DeliveryLine(
            delivery=delivery,
            order_line=line,
            quantity=line.quantity,
            quantity_received=(line.quantity - (line is missing)) if done else None,
            condition=ItemCondition.GOOD if done else "",
        )
        for line in lines
    ]
    _progress(lines, shipped=loaded <= now, delivered=done)
    if short:
        # The missing unit goes back to "to ship", as delivery_record leaves it.
        missing.quantity_delivered -= 1
        missing.quantity_shipped -= 1
        # Details as delivery_record writes them; the order line's key exists once the batch is written.
        details = [
            {
                "order_line": None,
                "sku": missing.product.sku,
                "product": missing.product.name,
                "expected": missing.quantity,
                "received": missing.quantity - 1,
                "condition": ItemCondition.GOOD,
                "missing": 1,
                "damaged": 0,
            }
        ]
        exception = DeliveryException(
            delivery=delivery,
            order=order,
            customer=order.customer,
            kind=ExceptionKind.SHORTFALL,
            details=details,
            opened_at=delivery.recorded_at,
        )
        batch.rows(DeliveryException, "delivery exceptions").append(exception)

        def name_the_line():
            details[0]["order_line"] = missing.pk
            DeliveryException.objects.filter(pk=exception.pk).update(details=details)

        batch.after_write(name_the_line)
    batch.rows(Delivery, "deliveries").append(delivery)
    batch.rows(DeliveryLine).extend(delivery_lines)
    return loaded, short


def pickup(
    story: Story, batch: Batch, order: Order, lines: list[OrderLine], point, ready: datetime, collected: datetime
) -> datetime | None:
    """Waiting at a store, locker or pickup point with a code, or collected. Returns when it was
    ready (the goods had left the warehouse), or None while it is still on its way."""
    now = story.world.now
    order.fulfilment = FulfilmentMethod.PICKUP
    promise(order, 2)
    if ready > now:
        _progress(lines, shipped=False, delivered=False)
        return None
    expires = ready + timedelta(days=7)
    if collected > expires:
        collected = expires - timedelta(hours=2)  # the story's customer came in time
    done = collected <= now
    row = Pickup(
        order=order,
        customer=order.customer,
        location=point,
        code=secret_code(),
        status=PickupStatus.COLLECTED if done else PickupStatus.READY,
        ready_at=ready,
        expires_at=expires,
        collected_at=collected if done else None,
        closed_at=collected if done else None,
    )
    batch.rows(Pickup, "pickups").append(row)
    batch.rows(PickupLine).extend(PickupLine(pickup=row, order_line=line, quantity=line.quantity) for line in lines)
    _progress(lines, shipped=True, delivered=done)
    return ready
