"""Pickups: an order (or part of it) waiting at a store, locker or pickup point for its customer.

Stock follows the pickup: making it ready reserves its units in the location's inventory, the
hand-over takes them off the shelf (on hand and reserved both go down), a cancelled or expired
pickup gives the reservation back. Money follows the units: a hand-over captures what had not been
captured yet (the goods have left), a no-show cancels the units and releases or refunds their value
through the charges ledger. A line of a product not stocked (a service sold, such as an
alteration's fee, beside the customer's own item) holds no stock, and a no-show keeps it: the
work is done and still owed (decision 0005).

Locks, always in this order so a hand-over and the sweep never wait on each other in a circle:
the pickup row, then the order (`order_lock`), then inventory rows (conditional UPDATEs, in
product order).
"""

import hmac
import logging
from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from core import events
from core.choices import Channel, LocationKind, TouchpointKind
from core.codes import secret_code, secret_code_normalise
from core.errors import Conflict, DomainError, RuleViolation
from core.models import Inventory, Location
from core.services.inventory import check_home_location, inventory_adjust
from core.services.notifications import notify
from core.services.timeline import touchpoint_record
from core.sweeps import in_batches, next_batch
from core.timezones import zone_or_utc
from core.workflow import transition_apply
from orders.choices import ChargeKind, FulfilmentMethod, PickupStatus
from orders.models import Order, OrderLine, Pickup, PickupLine
from orders.services.charges import charges_cancel_units, charges_capture, units_value
from orders.services.orders import order_lock, order_status_refresh

logger = logging.getLogger("aftercare.pickups")

# Where a customer can collect: not warehouses or returns centres.
PICKUP_LOCATION_KINDS = (LocationKind.STORE, LocationKind.PUDO, LocationKind.LOCKER, LocationKind.KIOSK)
SWEEP_BATCH = 100
WEEKDAYS = (
    ("mon", "Monday"),
    ("tue", "Tuesday"),
    ("wed", "Wednesday"),
    ("thu", "Thursday"),
    ("fri", "Friday"),
    ("sat", "Saturday"),
    ("sun", "Sunday"),
)


# --- making a pickup ready --------------------------------------------------------------------


def pickup_ready(*, actor, order: Order, location: Location, lines=None) -> Pickup:
    """The goods are at `location`: reserve them there, give the customer a code and a deadline.

    `lines`: [{"order_line": OrderLine or id, "quantity": n}]; by default every active unit not
    delivered and not waiting in another open pickup. Associates do this at their home location
    (managers and admins anywhere); `actor=None` is the system (e.g. a carrier's "arrived at the
    pickup point")."""
    if actor is not None:
        check_home_location(actor, location.pk, "Associates make pickups ready at their home location only.")
    if not location.is_active or location.kind not in PICKUP_LOCATION_KINDS:
        raise RuleViolation(f"{location.name} is not a place customers collect from.", code="not_a_pickup_location")
    with transaction.atomic():
        order = order_lock(order.pk)
        if order.fulfilment != FulfilmentMethod.PICKUP:
            raise RuleViolation(
                f"Order {order.number} is for {order.get_fulfilment_display().lower()}, not pickup.",
                code="not_a_pickup_order",
            )
        order_lines = {line.pk: line for line in order.lines.select_related("product")}
        wanted = _wanted_units(order_lines, _open_units(order, order_lines), lines)
        now = timezone.now()
        pickup = Pickup.objects.create(
            order=order,
            customer_id=order.customer_id,
            location=location,
            code=secret_code(),
            ready_at=now,
            expires_at=now + settings.PICKUP_HOLD,
        )
        pickup_lines = PickupLine.objects.bulk_create(
            PickupLine(
                pickup=pickup,
                order_line=order_lines[line_id],
                quantity=quantity,
                holds_stock=order_lines[line_id].product.stocked,
            )
            for line_id, quantity in wanted.items()
        )
        _reserve(location, pickup_lines, actor)
        items = sum(wanted.values())
        _touchpoint(
            pickup,
            actor,
            f"Ready for pickup at {location.name} until {local_deadline(pickup)}: {_items(items)} ({pickup.number})",
        )
        notify(
            customer=order.customer,
            event="pickup_ready",
            dedupe_key=f"pickup-ready:{pickup.number}",
            context={**message_context(pickup, pickup_lines), "code": pickup.code},
            secrets=[pickup.code],
            order_number=pickup.order.number,
        )
    return pickup


def _open_units(order: Order, order_lines: dict[int, OrderLine]) -> dict[int, int]:
    """Per order line: units neither cancelled, delivered nor already waiting in a ready pickup."""
    waiting = dict(
        PickupLine.objects.filter(pickup__order=order, pickup__status=PickupStatus.READY)
        .values("order_line")
        .annotate(units=Sum("quantity"))
        .values_list("order_line", "units")
    )
    return {pk: line.active_quantity - line.quantity_delivered - waiting.get(pk, 0) for pk, line in order_lines.items()}


def _wanted_units(order_lines: dict[int, OrderLine], open_units: dict[int, int], lines) -> dict[int, int]:
    if lines is None:
        wanted = {pk: units for pk, units in open_units.items() if units > 0}
        if not wanted:
            raise RuleViolation(
                "Every unit of this order is delivered, cancelled or already waiting for pickup.",
                code="nothing_to_pick_up",
            )
        return wanted
    if not lines:
        raise RuleViolation("Name at least one line, or none to take every open unit.", code="no_lines")
    wanted = {}
    for item in lines:
        line_id = getattr(item["order_line"], "pk", item["order_line"])
        quantity = item["quantity"]
        if line_id not in order_lines:
            raise RuleViolation(f"Line {line_id} is not a line of this order.", code="line_not_in_order")
        if line_id in wanted:
            raise RuleViolation(f"Line {line_id} is named twice.", code="duplicate_line")
        if quantity < 1 or quantity > open_units[line_id]:
            raise RuleViolation(
                f"Line {line_id} ({order_lines[line_id].product.sku}): {max(open_units[line_id], 0)} unit(s) "
                f"can be picked up, not {quantity}.",
                code="units_not_available",
                order_line=line_id,
                available=max(open_units[line_id], 0),
            )
        wanted[line_id] = quantity
    return wanted


def _units_by_product(pickup_lines) -> dict[int, int]:
    """Units per product the pickup holds on, and takes off, the shelf: what was stocked when it was
    made ready (`holds_stock`, so a product's flag changed since changes nothing here). A service
    sold (an alteration's fee) waits beside the customer's own item and holds no stock."""
    units = defaultdict(int)
    for line in pickup_lines:
        if line.holds_stock:
            units[line.order_line.product_id] += line.quantity
    return dict(sorted(units.items()))


def _stock_rows(location_id: int, product_ids) -> dict[int, Inventory]:
    rows = Inventory.objects.filter(location_id=location_id, product_id__in=list(product_ids)).select_related("product")
    return {row.product_id: row for row in rows}


def _reserve(location: Location, pickup_lines, actor) -> None:
    units = _units_by_product(pickup_lines)
    rows = _stock_rows(location.pk, units)
    for product_id, quantity in units.items():
        row = rows.get(product_id)
        if row is None:
            sku = next(line.order_line.product.sku for line in pickup_lines if line.order_line.product_id == product_id)
            raise RuleViolation(f"{location.name} holds no stock of {sku}.", code="not_stocked_here", sku=sku)
        try:
            inventory_adjust(inventory=row, actor=actor, reserved_delta=quantity)
        except RuleViolation as exc:
            raise RuleViolation(
                f"Not enough {row.product.sku} at {location.name} to hold {quantity}: {exc.detail}",
                code="insufficient_stock",
                sku=row.product.sku,
                **exc.extra,
            ) from exc


def _release(pickup: Pickup, pickup_lines) -> None:
    """Give the pickup's reservation back. As the system: the reservation belongs to the pickup,
    and whoever may close the pickup has been checked by the calling service."""
    units = _units_by_product(pickup_lines)
    rows = _stock_rows(pickup.location_id, units)
    for product_id, quantity in units.items():
        if product_id in rows:  # a stock row deleted since holds nothing to give back
            inventory_adjust(inventory=rows[product_id], actor=None, reserved_delta=-quantity)


# --- hand-over --------------------------------------------------------------------------------


def code_matches(expected: str, given: str) -> bool:
    """Compare in constant time, so the answer's timing says nothing about how much was right.
    Case, dashes and spaces do not matter; O, I and L read as 0, 1 and 1."""
    return hmac.compare_digest(secret_code_normalise(expected).encode(), secret_code_normalise(str(given)).encode())


def pickup_hand_over(*, actor, pickup: Pickup, code: str) -> Pickup:
    """The customer shows the code and takes the goods. A wrong code changes nothing (422); a
    pickup no longer ready is a 409 naming what it allows. Associates hand over at their home
    location only; managers and admins anywhere."""
    check_home_location(actor, pickup.location_id, "Associates hand pickups over at their home location only.")
    with transaction.atomic():
        pickup = Pickup.objects.select_for_update().get(pk=pickup.pk)
        if not code_matches(pickup.code, code):
            raise RuleViolation("That is not this pickup's code.", code="wrong_pickup_code")
        order = order_lock(pickup.order_id)
        now = timezone.now()
        pickup = transition_apply(
            pickup,
            "collect",
            actor=actor,
            extra_fields=["collected_by", "collected_at", "closed_at"],
            by=actor,
            at=now,
        )
        pickup.order = order
        pickup_lines = list(pickup.lines.select_related("order_line__product"))
        to_capture = Decimal("0")
        for item in pickup_lines:
            line = item.order_line
            delivered = line.quantity_delivered + item.quantity
            if delivered > line.active_quantity:
                raise Conflict(
                    f"Line {line.pk} has {line.active_quantity - line.quantity_delivered} unit(s) left to hand over.",
                    code="units_no_longer_open",
                )
            shipped = max(line.quantity_shipped, delivered)  # what is handed over has left us
            to_capture += units_value(line, shipped, order.currency) - units_value(
                line, line.quantity_shipped, order.currency
            )
            line.quantity_delivered, line.quantity_shipped = delivered, shipped
            line.save(update_fields=["quantity_delivered", "quantity_shipped"])
        if to_capture > 0:
            all_shipped = all(line.quantity_shipped >= line.active_quantity for line in order.lines.all())
            charges_capture(order=order, value=to_capture, actor=actor, final=all_shipped)
        _take_off_shelf(pickup, pickup_lines, actor)
        order_status_refresh(order)
        items = sum(item.quantity for item in pickup_lines)
        _touchpoint(pickup, actor, f"Collected {_items(items)} at {pickup.location.name} ({pickup.number})")
        events.publish("pickup.collected", pickup_id=pickup.pk, order_id=order.pk)
    return pickup


def _take_off_shelf(pickup: Pickup, pickup_lines, actor) -> None:
    units = _units_by_product(pickup_lines)
    rows = _stock_rows(pickup.location_id, units)
    for product_id, quantity in units.items():
        if product_id not in rows:
            raise _reservation_missing(pickup)
        try:
            inventory_adjust(inventory=rows[product_id], actor=actor, on_hand_delta=-quantity, reserved_delta=-quantity)
        except RuleViolation as exc:
            raise _reservation_missing(pickup) from exc


def _reservation_missing(pickup: Pickup) -> Conflict:
    return Conflict(
        f"The stock held for this pickup is no longer reserved at {pickup.location.name}; "
        "count the shelf and correct the inventory first.",
        code="reservation_missing",
    )


# --- cancel -----------------------------------------------------------------------------------


def pickup_cancel(*, actor, pickup: Pickup, reason: str) -> Pickup:
    """Call the pickup off (the customer asked for delivery instead, the goods are damaged): the
    reservation goes back; the order's units stay open, to be made ready again or sent."""
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation("Say why the pickup is cancelled.", code="reason_required")
    with transaction.atomic():
        pickup = transition_apply(
            pickup, "cancel", actor=actor, reason=reason, extra_fields=["closed_at"], at=timezone.now()
        )
        pickup_lines = list(pickup.lines.select_related("order_line__product"))
        _release(pickup, pickup_lines)
        _touchpoint(pickup, actor, f"Pickup {pickup.number} at {pickup.location.name} cancelled: {reason}")
    return pickup


# --- the sweep: reminders and no-shows --------------------------------------------------------


def pickups_sweep(*, now=None) -> dict:
    """Remind customers once before their deadline, and close pickups nobody collected: the
    reservation goes back, the units are cancelled and their value released or refunded. Safe to
    run twice and beside another sweep (rows are claimed with SKIP LOCKED, in batches, along the
    pickup_ready_expiry index). Returns how many were reminded, expired, and failed (logged)."""
    now = now or timezone.now()
    expired, failed = _expire_due(now)
    reminded = _remind_due(now)
    return {"reminded": reminded, "expired": expired, "failed": failed}


def claimable(queryset, after=None):
    """The next batch of ready pickups of `queryset` in deadline order, after `after` (see
    `core.sweeps.next_batch`); on PostgreSQL the pickup_ready_expiry index serves it."""
    ready = queryset.filter(status=PickupStatus.READY).select_related("customer", "location", "order")
    return next_batch(ready, key="expires_at", size=SWEEP_BATCH, after=after)


def _in_batches(queryset, handle) -> None:
    in_batches(lambda after: claimable(queryset, after), handle, key="expires_at")


def _remind_due(now) -> int:
    reminded = 0

    def remind(batch):
        nonlocal reminded
        lines = _lines_of(batch)
        for pickup in batch:
            pickup.reminded_at = now
            pickup.save(update_fields=["reminded_at"])
            notify(
                customer=pickup.customer,
                event="pickup_reminder",
                dedupe_key=f"pickup-reminder:{pickup.number}",
                context={**message_context(pickup, lines[pickup.pk]), "code": pickup.code},
                secrets=[pickup.code],
                order_number=pickup.order.number,
            )
        reminded += len(batch)

    due = Pickup.objects.filter(
        reminded_at__isnull=True, expires_at__gt=now, expires_at__lte=now + settings.PICKUP_REMINDER_BEFORE
    )
    _in_batches(due, remind)
    return reminded


def _lines_of(pickups) -> dict[int, list[PickupLine]]:
    """The lines of a batch of pickups in one query, with the related rows messages need."""
    by_pickup = defaultdict(list)
    rows = PickupLine.objects.filter(pickup__in=[p.pk for p in pickups]).select_related("order_line__product")
    for row in rows.order_by("id"):
        by_pickup[row.pickup_id].append(row)
    return by_pickup


def _expire_due(now) -> tuple[int, int]:
    expired = failed = 0

    def expire(batch):
        nonlocal expired, failed
        for pickup in batch:
            try:
                with transaction.atomic():  # one pickup that cannot be closed does not stop the rest
                    _expire(pickup, now)
                expired += 1
            except DomainError:
                logger.exception("pickup %s could not be closed as a no-show; left ready", pickup.number)
                failed += 1

    _in_batches(Pickup.objects.filter(expires_at__lte=now), expire)
    return expired, failed


def _expire(pickup: Pickup, now) -> None:
    order = order_lock(pickup.order_id)
    pickup = transition_apply(
        pickup, "expire", actor=None, reason="Not collected by the deadline", extra_fields=["closed_at"], at=now
    )
    pickup.order = order
    pickup_lines = list(pickup.lines.select_related("order_line__product"))
    value = Decimal("0")
    units = 0
    kept = []
    for item in pickup_lines:
        line = item.order_line
        if not item.holds_stock:  # work done on the customer's own item: it waits, still owed
            kept.append(f"{item.quantity} × {line.product.name}")
            continue
        cancel = min(item.quantity, line.active_quantity - line.quantity_delivered)
        if cancel <= 0:
            continue
        before = line.quantity_cancelled
        line.quantity_cancelled = before + cancel
        # units counted as shipped to this location and now not wanted are no longer the order's
        line.quantity_shipped = min(line.quantity_shipped, line.active_quantity)
        value += units_value(line, line.quantity_cancelled, order.currency) - units_value(line, before, order.currency)
        units += cancel
        line.save(update_fields=["quantity_cancelled", "quantity_shipped"])
    charges = charges_cancel_units(
        order=order, value=value, note=f"Pickup {pickup.number} not collected by {local_deadline(pickup)}"
    )
    _release(pickup, pickup_lines)
    order_status_refresh(order)
    refund = -sum((c.amount for c in charges if c.kind == ChargeKind.REFUND), Decimal("0"))
    released = -sum((c.amount for c in charges if c.kind == ChargeKind.AUTHORISATION), Decimal("0"))
    notify(
        customer=order.customer,
        event="pickup_expired",
        dedupe_key=f"pickup-expired:{pickup.number}",
        order_number=order.number,
        context={
            **message_context(pickup, [item for item in pickup_lines if item.holds_stock]),
            "kept": kept,
            "refund": refund,
            "released": released,
            "currency": order.currency,
        },
    )
    _touchpoint(
        pickup,
        None,
        f"Not collected at {pickup.location.name} by {local_deadline(pickup)}: {_items(units)} cancelled, "
        f"{value} {order.currency} back{f', {len(kept)} kept at the store' if kept else ''} ({pickup.number})",
    )


# --- what the messages and the timeline say ---------------------------------------------------


def _items(count: int) -> str:
    return f"{count} item{'s' if count != 1 else ''}"


def _touchpoint(pickup: Pickup, actor, summary: str) -> None:
    touchpoint_record(
        customer=pickup.customer,
        kind=TouchpointKind.PICKUP,
        channel=Channel.STORE,
        summary=summary,
        associate=actor,
        location=pickup.location,
        order_number=pickup.order.number,
        subject=pickup,
    )


def local_deadline(pickup: Pickup) -> str:
    """The deadline as the location's clock shows it: the customer goes there."""
    zone = zone_or_utc(pickup.location.time_zone)
    return f"{timezone.localtime(pickup.expires_at, zone):%A %d %B %Y, %H:%M} ({zone.key})"


def opening_hours_lines(location: Location) -> list[str]:
    """Opening hours for a message, one line per weekday; a 24-hour location says so. Empty when
    the location has none on record (the message then points to the phone number)."""
    if location.open_24h:
        return ["Open 24 hours a day, 7 days a week"]
    hours = location.opening_hours if isinstance(location.opening_hours, dict) else {}
    if not hours:
        return []
    lines = []
    for key, day in WEEKDAYS:
        spans = [span for span in hours.get(key) or [] if isinstance(span, list | tuple) and len(span) == 2]
        lines.append(f"{day}: {', '.join(f'{start}–{end}' for start, end in spans) if spans else 'closed'}")
    return lines


def message_context(pickup: Pickup, pickup_lines) -> dict:
    """What every pickup message shows: where, when it opens, until when, and what is waiting."""
    location = pickup.location
    address = [location.address_line1, location.address_line2, f"{location.postcode} {location.city}"]
    return {
        "pickup_number": pickup.number,
        "order_number": pickup.order.number,
        "location_name": location.name,
        "location_kind": location.get_kind_display(),
        "locker": location.kind == LocationKind.LOCKER,
        "address": ", ".join(part for part in address if part.strip()),
        "phone": location.phone,
        "open_24h": location.open_24h,
        "opening_hours": opening_hours_lines(location),
        "deadline": local_deadline(pickup),
        "items": [f"{item.quantity} × {item.order_line.product.name}" for item in pickup_lines],
    }
