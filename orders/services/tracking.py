"""Carrier tracking events: each stored once, matched to its shipment (or kept until the shipment
exists) and applied so that a shipment only ever moves forward.

- A carrier's event id is applied once (constraint `tracking_event_once`); a concurrent copy of the
  same event loses the insert race inside a savepoint and counts as a duplicate.
- An event for a tracking number we do not know yet is kept with no shipment. `shipment_create`
  adopts such events; so does the next event of a shipment that was created while one was in flight
  (neither transaction could see the other's row).
- A shipment never moves backwards: a lower rank (`SHIPMENT_STATUS_RANK`) never changes the status,
  an equal rank only when the event is newer than the newest applied one, and a final status
  (delivered, returned to sender) never changes. The estimate comes from the newest event carrying one.
- Delivered: `delivered_at`, and unless a home-delivery appointment handles the shipment (its
  recording counts the goods), the lines count as delivered, the order's status follows, a
  touchpoint and a message. An exception or a failed attempt: a touchpoint and one message per
  shipment and status. Waiting at a pickup point: a message naming where.

A batch is the unit of work (`tracking_events_apply`): a webhook call costs a fixed number of queries
plus those of the events that have side effects, never a query per event. Locks: the orders of the
shipments a batch may deliver (their lines change), then the shipments, each in id order: the order
lock first, as every writer of an order's lines takes it.
"""

import enum
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote

from django.db import IntegrityError, connection, transaction
from django.db.models import F, prefetch_related_objects
from django.db.models.functions import Least
from django.utils import timezone

from core.choices import TouchpointKind
from core.services.notifications import notify
from core.services.timeline import touchpoint_record
from core.timezones import zone_or_utc
from orders.choices import (
    FINAL_SHIPMENT_STATUSES,
    SHIPMENT_STATUS_RANK,
    TROUBLED_SHIPMENT_STATUSES,
    DeliveryStatus,
    ShipmentStatus,
)
from orders.models import Carrier, Delivery, Order, OrderLine, Shipment, ShipmentLine, TrackingEvent
from orders.services.orders import order_status_refresh

SHIPMENT_FIELDS = ["status", "delivered_at", "last_event_at", "estimated_delivery"]
DESCRIPTION_MAX = TrackingEvent._meta.get_field("description").max_length
PLACE_MAX = TrackingEvent._meta.get_field("place").max_length


class Outcome(enum.StrEnum):
    APPLIED = "applied"  # stored against its shipment, whether or not it moved the status
    DUPLICATE = "duplicate"  # this carrier sent this event id before
    UNMATCHED = "unmatched"  # stored; waits for a shipment with its tracking number


@dataclass(frozen=True)
class CarrierEvent:
    event_id: str
    tracking_number: str
    status: str
    occurred_at: datetime
    description: str = ""
    place: str = ""
    estimated_delivery: datetime | None = None


@dataclass(frozen=True)
class BatchResult:
    outcomes: tuple[Outcome, ...]  # one per event, in the order given

    @property
    def applied(self) -> int:
        return self.outcomes.count(Outcome.APPLIED)

    @property
    def duplicates(self) -> int:
        return self.outcomes.count(Outcome.DUPLICATE)

    @property
    def unmatched(self) -> int:
        return self.outcomes.count(Outcome.UNMATCHED)


@dataclass
class _Progress:
    """What a batch did to one shipment: the events that changed its status, oldest first."""

    shipment: Shipment
    moved: list[TrackingEvent] = field(default_factory=list)
    changed: bool = False


def tracking_url(carrier: Carrier, tracking_number: str) -> str:
    """The carrier's public tracking page for this parcel ("" when the carrier has none)."""
    if not carrier.tracking_url:
        return ""
    return carrier.tracking_url.replace("{tracking_number}", quote(tracking_number, safe=""))


def tracking_event_apply(
    *,
    carrier: Carrier,
    event_id: str,
    tracking_number: str,
    status: str,
    occurred_at: datetime,
    description: str = "",
    place: str = "",
    estimated_delivery: datetime | None = None,
) -> Outcome:
    """Apply one carrier event; see the module's rules. Returns what happened to it."""
    event = CarrierEvent(event_id, tracking_number, status, occurred_at, description, place, estimated_delivery)
    return tracking_events_apply(carrier=carrier, events=[event]).outcomes[0]


def tracking_events_apply(*, carrier: Carrier, events: Sequence[CarrierEvent]) -> BatchResult:
    """Apply a carrier's batch in one transaction: store each new event once, move the shipments
    it names forward, and run the side effects of the statuses they reach."""
    numbers = {event.tracking_number for event in events}
    delivering = {event.tracking_number for event in events if event.status == ShipmentStatus.DELIVERED}
    with transaction.atomic():
        orders = _lock_orders(carrier, delivering)
        shipments = {
            s.tracking_number: s
            for s in Shipment.objects.select_for_update()
            .filter(carrier=carrier, tracking_number__in=numbers)
            # id order: two batches naming the same shipments lock them in the same order
            .order_by("pk")
        }
        orphans = _adopt_orphans(carrier, shipments)
        outcomes, stored = _store(carrier, events, shipments)
        by_shipment = defaultdict(list)
        for row in [*orphans, *stored]:
            if row.shipment_id is not None:
                by_shipment[row.shipment_id].append(row)
        progress = [_advance(s, by_shipment[s.pk]) for s in shipments.values() if s.pk in by_shipment]
        _save_shipments([p.shipment for p in progress if p.changed])
        _side_effects(carrier, progress, orders)
    return BatchResult(tuple(outcomes))


def tracking_events_adopt(*, shipment: Shipment, order: Order) -> Callable[[], None]:
    """Apply the events that arrived for a new shipment's tracking number before it existed, in
    the order they happened. The caller (`shipment_create`) holds the order's lock. Returns the
    side effects to run, so that the caller can tell the customer "shipped" before "delivered"."""
    orphans = _adopt_orphans(shipment.carrier, {shipment.tracking_number: shipment})
    if not orphans:
        return lambda: None
    progress = _advance(shipment, orphans)
    if progress.changed:
        shipment.save(update_fields=SHIPMENT_FIELDS)
    return lambda: _side_effects(shipment.carrier, [progress], {order.pk: order})


def _lock_orders(carrier: Carrier, numbers: set[str]) -> dict[int, Order]:
    """Lock the orders whose lines a delivered event may change, before the shipments."""
    if not numbers:
        return {}
    shipped = Shipment.objects.filter(carrier=carrier, tracking_number__in=numbers).exclude(
        status__in=FINAL_SHIPMENT_STATUSES
    )
    rows = (
        Order.objects.select_for_update(of=("self",))
        .select_related("customer")
        .filter(pk__in=shipped.values("order_id"))
        .order_by("pk")
    )
    return {order.pk: order for order in rows}


def _adopt_orphans(carrier: Carrier, shipments: dict[str, Shipment]) -> list[TrackingEvent]:
    """Events kept without a shipment whose shipment now exists (the caller holds its lock)."""
    if not shipments:
        return []
    orphans = list(
        TrackingEvent.objects.filter(carrier=carrier, shipment__isnull=True, tracking_number__in=list(shipments))
    )
    for number in {row.tracking_number for row in orphans}:
        mine = [row for row in orphans if row.tracking_number == number]
        TrackingEvent.objects.filter(pk__in=[row.pk for row in mine], shipment__isnull=True).update(
            shipment=shipments[number]
        )
        for row in mine:
            row.shipment = shipments[number]
    return orphans


def _store(
    carrier: Carrier, events: Sequence[CarrierEvent], shipments: dict[str, Shipment]
) -> tuple[list[Outcome], list[TrackingEvent]]:
    """Insert the events not seen before; the first copy of an id in a batch wins."""
    outcomes: list[Outcome | None] = [None] * len(events)
    first: dict[str, int] = {}
    for index, event in enumerate(events):
        if event.event_id in first:
            outcomes[index] = Outcome.DUPLICATE
        else:
            first[event.event_id] = index
    seen = set(
        TrackingEvent.objects.filter(carrier=carrier, event_id__in=list(first)).values_list("event_id", flat=True)
    )
    now = timezone.now()
    pending: list[tuple[int, TrackingEvent]] = []
    # in event id order, so that concurrent batches wait on each other's inserts in one order
    for event_id in sorted(first):
        index = first[event_id]
        if event_id in seen:
            outcomes[index] = Outcome.DUPLICATE
            continue
        event = events[index]
        row = TrackingEvent(
            carrier=carrier,
            event_id=event_id,
            tracking_number=event.tracking_number,
            shipment=shipments.get(event.tracking_number),
            status=event.status,
            occurred_at=event.occurred_at,
            description=event.description[:DESCRIPTION_MAX],
            place=event.place[:PLACE_MAX],
            estimated_delivery=event.estimated_delivery,
            received_at=now,
        )
        pending.append((index, row))
    stored = _insert([row for _, row in pending])
    for (index, row), ok in zip(pending, stored, strict=True):
        if not ok:
            outcomes[index] = Outcome.DUPLICATE
        else:
            outcomes[index] = Outcome.APPLIED if row.shipment_id is not None else Outcome.UNMATCHED
    return outcomes, [row for (_, row), ok in zip(pending, stored, strict=True) if ok]


def _insert(rows: list[TrackingEvent]) -> list[bool]:
    """All rows in one INSERT; if a concurrent request stored one of them first, row by row, each
    in a savepoint, so that the copies it stored count as duplicates instead of failing the batch.
    Returns, per row, whether it was stored."""
    if not rows:
        return []
    try:
        with transaction.atomic():
            TrackingEvent.objects.bulk_create(rows)
        return [True] * len(rows)
    except IntegrityError:
        pass
    stored = []
    for row in rows:
        row.pk = None
        try:
            with transaction.atomic():
                row.save(force_insert=True)
            stored.append(True)
        except IntegrityError:
            stored.append(False)
    return stored


def _values_update(sql: str, row_template: str, rows: list[tuple]) -> None:
    """One `UPDATE ... FROM (VALUES ...)` for many rows (PostgreSQL). Django's bulk_update builds a
    CASE per row and field, which cost more than everything else a batch does."""
    values = ", ".join([row_template] * len(rows))
    with connection.cursor() as cursor:
        cursor.execute(sql.format(values=values), [value for row in rows for value in row])


def _save_shipments(shipments: list[Shipment]) -> None:
    if not shipments:
        return
    if connection.vendor != "postgresql":
        Shipment.objects.bulk_update(shipments, SHIPMENT_FIELDS)
        return
    _values_update(
        "UPDATE orders_shipment AS s SET status = v.status, delivered_at = v.delivered_at, "
        "last_event_at = v.last_event_at, estimated_delivery = v.estimated_delivery "
        "FROM (VALUES {values}) AS v(id, status, delivered_at, last_event_at, estimated_delivery) WHERE s.id = v.id",
        "(%s, %s, %s::timestamptz, %s::timestamptz, %s::timestamptz)",
        [(s.pk, s.status, s.delivered_at, s.last_event_at, s.estimated_delivery) for s in shipments],
    )


def _count_delivered(quantities: dict[int, int]) -> None:
    """Raise each order line's delivered count, never above the units still ordered."""
    if connection.vendor != "postgresql":
        for line_id, quantity in quantities.items():
            OrderLine.objects.filter(pk=line_id).update(
                quantity_delivered=Least(F("quantity_delivered") + quantity, F("quantity") - F("quantity_cancelled"))
            )
        return
    _values_update(
        "UPDATE orders_orderline AS l SET quantity_delivered = "
        "LEAST(l.quantity_delivered + v.quantity, l.quantity - l.quantity_cancelled) "
        "FROM (VALUES {values}) AS v(id, quantity) WHERE l.id = v.id",
        "(%s, %s)",
        list(quantities.items()),
    )


def _moves(shipment: Shipment, event: TrackingEvent) -> bool:
    if shipment.status in FINAL_SHIPMENT_STATUSES:
        return False
    new, current = SHIPMENT_STATUS_RANK[event.status], SHIPMENT_STATUS_RANK[shipment.status]
    if new != current:
        return new > current
    return shipment.last_event_at is None or event.occurred_at > shipment.last_event_at


def _advance(shipment: Shipment, events: list[TrackingEvent]) -> _Progress:
    """Apply events to a locked shipment in the order they happened (arrival order on ties)."""
    progress = _Progress(shipment)
    newest_before = shipment.last_event_at
    for event in sorted(events, key=lambda e: e.occurred_at):
        if event.status != shipment.status and _moves(shipment, event):
            progress.moved.append(event)
            shipment.status = event.status
            if event.status == ShipmentStatus.DELIVERED:
                shipment.delivered_at = event.occurred_at
            progress.changed = True
        if shipment.last_event_at is None or event.occurred_at > shipment.last_event_at:
            shipment.last_event_at = event.occurred_at
            progress.changed = True
    estimate = _newest_estimate(shipment, events, newest_before)
    if estimate is not None and estimate != shipment.estimated_delivery:
        shipment.estimated_delivery = estimate
        progress.changed = True
    return progress


def _newest_estimate(shipment: Shipment, events: list[TrackingEvent], newest_before) -> datetime | None:
    """The estimate of the newest event carrying one, if it is among `events`. Only an estimate
    that arrived late (older than an event applied before) costs a query, to look for a newer one."""
    carrying = [e for e in events if e.estimated_delivery is not None]
    if not carrying:
        return None
    newest = max(carrying, key=lambda e: e.occurred_at)
    if newest_before is not None and newest.occurred_at < newest_before:
        newer = TrackingEvent.objects.filter(
            shipment=shipment, estimated_delivery__isnull=False, occurred_at__gt=newest.occurred_at
        )
        if newer.exists():
            return None
    return newest.estimated_delivery


# --- side effects ---------------------------------------------------------------------------


NOTABLE = (ShipmentStatus.DELIVERED, ShipmentStatus.AVAILABLE_FOR_PICKUP, *TROUBLED_SHIPMENT_STATUSES)


def _side_effects(carrier: Carrier, progress: list[_Progress], orders: dict[int, Order]) -> None:
    """Only the status a shipment ended the batch in speaks to the customer: a backlog that holds a
    failed attempt and then the delivery sends the delivery alone."""
    notable = [p for p in progress if p.moved and p.shipment.status in NOTABLE]
    if not notable:
        return
    delivered = [p for p in notable if p.shipment.status == ShipmentStatus.DELIVERED]
    _load_orders(orders, notable, delivered)
    if delivered:
        _delivered(carrier, delivered, orders)
    for p in notable:
        if p.shipment.status in TROUBLED_SHIPMENT_STATUSES:
            _problem(carrier, p.shipment, p.moved[-1], orders[p.shipment.order_id])
        elif p.shipment.status == ShipmentStatus.AVAILABLE_FOR_PICKUP:
            _at_pickup_point(carrier, p.shipment, p.moved[-1], orders[p.shipment.order_id])


def _load_orders(orders: dict[int, Order], notable: list[_Progress], delivered: list[_Progress]) -> None:
    """Orders (with their customers) the batch did not lock up front. A delivered shipment's order
    is missing only when the shipment was created between the two lock queries: rare enough to
    lock it here, after the shipment."""
    wanted = {p.shipment.order_id for p in notable} - orders.keys()
    if not wanted:
        return
    to_lock = {p.shipment.order_id for p in delivered} & wanted
    rows = Order.objects.select_related("customer").filter(pk__in=wanted).order_by("pk")
    if to_lock:
        rows = rows.select_for_update(of=("self",))
    orders.update({order.pk: order for order in rows})


def _local_date(moment: datetime, customer):
    return moment.astimezone(zone_or_utc(customer.time_zone)).date()


def _delivered(carrier: Carrier, delivered: list[_Progress], orders: dict[int, Order]) -> None:
    """Count the goods as delivered, unless an appointment does (its recording counts them)."""
    ids = [p.shipment.pk for p in delivered]
    handled = set(
        Delivery.objects.filter(shipment_id__in=ids)
        .exclude(status=DeliveryStatus.CANCELLED)
        .values_list("shipment_id", flat=True)
    )
    todo = [p for p in delivered if p.shipment.pk not in handled]
    if not todo:
        return
    lines = defaultdict(list)
    rows = (
        ShipmentLine.objects.filter(shipment_id__in=[p.shipment.pk for p in todo])
        .order_by("pk")
        .values_list("shipment_id", "order_line_id", "quantity", "order_line__product__name")
    )
    for shipment_id, line_id, quantity, name in rows:
        lines[shipment_id].append((line_id, quantity, name))
    quantities: dict[int, int] = defaultdict(int)  # a line shipped in two parcels delivered together
    for p in todo:
        for line_id, quantity, _ in lines[p.shipment.pk]:
            quantities[line_id] += quantity
    _count_delivered(quantities)
    touched = [orders[order_id] for order_id in sorted({p.shipment.order_id for p in todo})]
    prefetch_related_objects(touched, "lines")  # read after the update: order_status_refresh uses them
    for order in touched:
        order_status_refresh(order)
        order._prefetched_objects_cache.pop("lines", None)  # would go stale with the next change
    for p in todo:
        shipment, event, order = p.shipment, p.moved[-1], orders[p.shipment.order_id]
        items = ", ".join(f"{quantity} × {name}" for _, quantity, name in lines[shipment.pk])
        where = f" ({event.place})" if event.place else ""
        touchpoint_record(
            customer=order.customer,
            kind=TouchpointKind.DELIVERY,
            channel=order.channel,
            summary=f"{carrier.name} delivered {items}{where}; parcel {shipment.tracking_number}",
            order_number=order.number,
            subject=shipment,
            occurred_at=event.occurred_at,
        )
        notify(
            customer=order.customer,
            event="shipment_delivered",
            dedupe_key=f"shipment-delivered:{shipment.number}",
            context={
                "order": order,
                "shipment": shipment,
                "carrier": carrier,
                "items": items,
                "place": event.place,
                "delivered_date": _local_date(event.occurred_at, order.customer),
            },
        )


def _problem(carrier: Carrier, shipment: Shipment, event: TrackingEvent, order: Order) -> None:
    """Once per shipment and status: a second failed attempt is not news to the customer."""
    sent = notify(
        customer=order.customer,
        event="shipment_problem",
        dedupe_key=f"shipment-problem:{shipment.number}:{event.status}",
        context={
            "order": order,
            "shipment": shipment,
            "carrier": carrier,
            "failed_attempt": event.status == ShipmentStatus.FAILED_ATTEMPT,
            "description": event.description,
            "place": event.place,
            "tracking_url": tracking_url(carrier, shipment.tracking_number),
        },
    )
    if sent:
        what = "could not deliver" if event.status == ShipmentStatus.FAILED_ATTEMPT else "reports a problem with"
        detail = f": {event.description}" if event.description else ""
        touchpoint_record(
            customer=order.customer,
            kind=TouchpointKind.DELIVERY,
            channel=order.channel,
            summary=f"{carrier.name} {what} parcel {shipment.tracking_number}{detail}",
            order_number=order.number,
            subject=shipment,
            occurred_at=event.occurred_at,
        )


def _at_pickup_point(carrier: Carrier, shipment: Shipment, event: TrackingEvent, order: Order) -> None:
    location = shipment.pickup_location
    sent = notify(
        customer=order.customer,
        event="shipment_at_pickup_point",
        dedupe_key=f"shipment-at-pickup-point:{shipment.number}",
        context={
            "order": order,
            "shipment": shipment,
            "carrier": carrier,
            "location": location,
            "place": event.place,
            "tracking_url": tracking_url(carrier, shipment.tracking_number),
        },
    )
    if sent:
        where = location.name if location else event.place or "a pickup point"
        touchpoint_record(
            customer=order.customer,
            kind=TouchpointKind.DELIVERY,
            channel=order.channel,
            summary=f"Parcel {shipment.tracking_number} is ready to collect at {where}",
            location=location,
            order_number=order.number,
            subject=shipment,
            occurred_at=event.occurred_at,
        )
