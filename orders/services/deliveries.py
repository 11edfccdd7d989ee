"""Home-delivery appointments: booking, changes before the cut-off, the "what is coming" reminder,
recording how the delivery went at the door, and cancelling.

Lock order, everywhere: the order (`order_lock`), then the delivery (`transition_apply` or
`select_for_update`). Everything that changes an order's lines takes the order's lock, so two
people booking the same units, or recording the same delivery, are served one after the other.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Prefetch, Sum
from django.utils import timezone

from core.choices import Channel, Role, TouchpointKind
from core.errors import Conflict, PreconditionFailed, RuleViolation, TransitionNotAllowed
from core.models import CustomerAddress
from core.services.customers import etag_matches
from core.services.notifications import notify
from core.services.timeline import touchpoint_record
from core.timezones import zone_or_utc
from core.workflow import allowed_transitions, transition_apply
from orders.choices import DeliveryService, DeliveryStatus, ExceptionKind, ItemCondition, PickupStatus
from orders.models import Delivery, DeliveryException, DeliveryLine, Order, OrderLine, PickupLine
from orders.services.charges import charges_capture, units_value
from orders.services.orders import order_lock, order_status_refresh

REMINDER_BATCH = 200
# A window is a promise the crew plans a route around: hours, not days.
WINDOW_MAX = timedelta(hours=12)


# --- small shared pieces ---------------------------------------------------------------------


def delivery_etag(delivery: Delivery) -> str:
    return f'"{delivery.pk}-{delivery.updated_at.timestamp():.6f}"'


def change_cutoff(delivery: Delivery) -> datetime:
    """The last moment the customer or an agent may change the delivery (exclusive)."""
    return delivery.window_start - settings.DELIVERY_CHANGE_CUTOFF


def window_text(start: datetime, end: datetime, zone_name: str) -> str:
    """The window as the customer reads it, in their time zone: "Tuesday 11 March 2031, 10:00–12:00 (CET)"."""
    zone = zone_or_utc(zone_name)
    start, end = start.astimezone(zone), end.astimezone(zone)
    day = f"{start:%A} {start.day} {start:%B %Y}"
    if end.date() == start.date():
        return f"{day}, {start:%H:%M}–{end:%H:%M} ({start:%Z})"
    return f"{day} {start:%H:%M} – {end:%A} {end.day} {end:%B %Y} {end:%H:%M} ({end:%Z})"


def cutoff_text(delivery: Delivery) -> str:
    cutoff = change_cutoff(delivery).astimezone(zone_or_utc(delivery.customer.time_zone))
    return f"{cutoff:%A} {cutoff.day} {cutoff:%B %Y} at {cutoff:%H:%M} ({cutoff:%Z})"


def _channel(actor, customer) -> str:
    """Where the event happened, for the timeline: the app when the customer acts, the phone for
    customer service, the store otherwise (associates' handhelds, the delivery crew)."""
    if actor is None:
        return Channel.WEB
    if customer.user_id and actor.pk == customer.user_id:
        return Channel.APP
    if actor.has_role(Role.CUSTOMER_SERVICE):
        return Channel.PHONE
    return Channel.STORE


def _staff(actor, customer):
    """The associate to name on a touchpoint: staff only, never the customer."""
    if actor is None or (customer.user_id and actor.pk == customer.user_id):
        return None
    return actor


def _items(lines) -> list[dict]:
    return [{"name": line.order_line.product.name, "quantity": line.quantity} for line in lines]


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _touchpoint(delivery: Delivery, actor, summary: str) -> None:
    touchpoint_record(
        customer=delivery.customer,
        kind=TouchpointKind.DELIVERY,
        channel=_channel(actor, delivery.customer),
        summary=summary,
        associate=_staff(actor, delivery.customer),
        location=delivery.order.location,
        order_number=delivery.order.number,
        subject=delivery,
    )


# --- booking ---------------------------------------------------------------------------------


def _check_window(start: datetime, end: datetime, now: datetime) -> None:
    if timezone.is_naive(start) or timezone.is_naive(end):
        raise RuleViolation("Give the window with a time zone.", code="naive_window")
    if end <= start:
        raise RuleViolation("The window must end after it starts.", code="window_order")
    if end - start > WINDOW_MAX:
        hours = int(WINDOW_MAX.total_seconds() // 3600)
        raise RuleViolation(f"A delivery window is at most {hours} hours long.", code="window_too_long")
    if start <= now:
        raise RuleViolation("The window must be in the future.", code="window_in_past")


def _address_copy(address, customer_id: int) -> dict:
    """The delivery's copy of the address: a saved address of the order's customer, or a dict."""
    if isinstance(address, CustomerAddress):
        if address.customer_id != customer_id:
            raise RuleViolation("This address belongs to another customer.", code="address_not_customers")
        address = {name: getattr(address, name) for name in ("line1", "line2", "city", "postcode", "country")}
    missing = [name for name in ("line1", "city", "postcode", "country") if not (address or {}).get(name)]
    if missing:
        raise RuleViolation(f"The address needs {', '.join(missing)}.", code="address_incomplete", missing=missing)
    return {
        "address_line1": address["line1"],
        "address_line2": address.get("line2", ""),
        "city": address["city"],
        "postcode": address["postcode"],
        "country": address["country"],
    }


def units_booked_elsewhere(line_ids) -> dict[int, int]:
    """Units of these order lines already promised: on a scheduled delivery or waiting at a pickup."""
    booked = dict.fromkeys(line_ids, 0)
    for model, status_path, status in (
        (DeliveryLine, "delivery__status", DeliveryStatus.SCHEDULED),
        (PickupLine, "pickup__status", PickupStatus.READY),
    ):
        rows = (
            model.objects.filter(order_line_id__in=line_ids, **{status_path: status})
            .values("order_line_id")
            .annotate(units=Sum("quantity"))
        )
        for row in rows:
            booked[row["order_line_id"]] += row["units"]
    return booked


def _pk(value) -> int:
    return value.pk if hasattr(value, "pk") else int(value)


def _planned_lines(order: Order, lines, order_lines: dict[int, OrderLine]) -> dict[int, int]:
    """order line id -> units this delivery brings. By default every unit still to deliver."""
    booked = units_booked_elsewhere(list(order_lines))
    open_units = {pk: line.active_quantity - line.quantity_delivered for pk, line in order_lines.items()}
    free = {pk: max(open_units[pk] - booked[pk], 0) for pk in order_lines}
    if lines is None:
        planned = {pk: units for pk, units in free.items() if units > 0}
        if not planned:
            raise RuleViolation(
                f"Nothing on order {order.number} is left to deliver: every unit is delivered, cancelled or booked.",
                code="nothing_to_deliver",
            )
        return planned
    planned = {}
    for item in lines:
        pk, units = _pk(item["order_line"]), item["quantity"]
        line = order_lines.get(pk)
        if line is None:
            raise RuleViolation(f"Line {pk} is not on order {order.number}.", code="line_not_on_order", order_line=pk)
        if pk in planned:
            raise RuleViolation(f"Line {pk} is listed twice.", code="line_twice", order_line=pk)
        if units < 1:
            raise RuleViolation("Each line brings at least one unit.", code="quantity")
        if units > open_units[pk]:
            raise RuleViolation(
                f"{line.product.name}: {open_units[pk]} of {line.quantity} still to deliver, not {units}.",
                code="quantity_exceeds_line",
                order_line=pk,
                available=open_units[pk],
            )
        if units > free[pk]:
            raise Conflict(
                f"{line.product.name}: {booked[pk]} unit(s) are already booked on another delivery or pickup; "
                f"{free[pk]} can be booked here.",
                code="units_already_booked",
                order_line=pk,
                available=free[pk],
            )
        planned[pk] = units
    if not planned:
        raise RuleViolation("A delivery brings at least one line.", code="no_lines")
    return planned


def delivery_schedule(
    *,
    actor,
    order: Order,
    window_start: datetime,
    window_end: datetime,
    address,
    instructions: str = "",
    service: str = DeliveryService.STANDARD,
    lines=None,
    shipment=None,
) -> Delivery:
    """Book a home delivery for units of `order` that are not delivered, not cancelled and not
    booked on another scheduled delivery or ready pickup.

    `address`: a saved CustomerAddress of the order's customer (its fields are copied) or a dict of
    line1, line2, city, postcode, country. `lines`: [{order_line, quantity}], default everything
    still to deliver. The customer is told the window in their own time zone."""
    _check_window(window_start, window_end, timezone.now())
    if shipment is not None and shipment.order_id != order.pk:
        raise RuleViolation("The shipment belongs to another order.", code="shipment_not_on_order")
    with transaction.atomic():
        order = order_lock(order.pk)
        address_fields = _address_copy(address, order.customer_id)
        order_lines = {line.pk: line for line in order.lines.select_related("product")}
        planned = _planned_lines(order, lines, order_lines)
        delivery = Delivery.objects.create(
            order=order,
            customer=order.customer,
            shipment=shipment,
            window_start=window_start,
            window_end=window_end,
            instructions=instructions,
            service=service,
            **address_fields,
        )
        rows = DeliveryLine.objects.bulk_create(
            DeliveryLine(delivery=delivery, order_line=order_lines[pk], quantity=units) for pk, units in planned.items()
        )
        when = window_text(window_start, window_end, order.customer.time_zone)
        _touchpoint(
            delivery,
            actor,
            f"Delivery {delivery.number} booked for {when}: {_count(sum(planned.values()), 'item')}, "
            f"{delivery.get_service_display()}",
        )
        notify(
            customer=order.customer,
            event="delivery_scheduled",
            dedupe_key=f"delivery-scheduled:{delivery.number}",
            context={
                "delivery": delivery,
                "order": order,
                "window": when,
                "items": _items(rows),
                "service": delivery.get_service_display(),
                "cutoff": cutoff_text(delivery),
            },
        )
    return delivery


# --- changes before the cut-off --------------------------------------------------------------


def _check_may_change(actor, delivery: Delivery) -> None:
    if delivery.customer.user_id and actor.pk == delivery.customer.user_id:
        return
    if not actor.has_perm("orders.change_delivery"):
        raise PermissionDenied("Only the customer or staff may change this delivery.")


def delivery_change(
    *,
    actor,
    delivery: Delivery,
    instructions: str | None = None,
    window_start: datetime | None = None,
    window_end: datetime | None = None,
    if_match: str | None = None,
) -> Delivery:
    """Change the instructions or move the window, until DELIVERY_CHANGE_CUTOFF before the window
    opens (the crew's route is planned from then on). A new window means a new reminder."""
    now = timezone.now()
    with transaction.atomic():
        locked = (
            Delivery.objects.select_for_update(of=("self",))
            .select_related("customer", "order__location")
            .get(pk=delivery.pk)
        )
        _check_may_change(actor, locked)
        if if_match is not None and not etag_matches(if_match, delivery_etag(locked)):
            raise PreconditionFailed(
                "This delivery was changed by someone else since you loaded it; reload and try again.",
                current_etag=delivery_etag(locked),
            )
        if locked.status != DeliveryStatus.SCHEDULED:
            raise Conflict(
                f"Delivery {locked.number} is {locked.get_status_display().lower()}; only a scheduled delivery "
                "can be changed.",
                code="not_scheduled",
                state=locked.status,
            )
        cutoff = change_cutoff(locked)
        if now >= cutoff:
            hours = int(settings.DELIVERY_CHANGE_CUTOFF.total_seconds() // 3600)
            raise Conflict(
                f"Delivery {locked.number} can no longer be changed: changes close {hours} hours before the "
                f"window opens, so the cut-off was {cutoff_text(locked)}. Please call us if you need help.",
                code="past_cutoff",
                cutoff=cutoff.isoformat(),
            )
        new_start, new_end = window_start or locked.window_start, window_end or locked.window_end
        moved = (new_start, new_end) != (locked.window_start, locked.window_end)
        changed = []
        if moved:
            _check_window(new_start, new_end, now)
            old_window = window_text(locked.window_start, locked.window_end, locked.customer.time_zone)
            locked.window_start, locked.window_end, locked.reminded_at = new_start, new_end, None
            changed += ["window_start", "window_end", "reminded_at"]
        if instructions is not None and instructions != locked.instructions:
            locked.instructions = instructions
            changed.append("instructions")
        if not changed:
            return locked
        locked.save(update_fields=[*changed, "updated_at"])
        when = window_text(locked.window_start, locked.window_end, locked.customer.time_zone)
        summary = (
            f"Delivery {locked.number} moved to {when}" if moved else f"Delivery {locked.number}: new instructions"
        )
        _touchpoint(locked, actor, summary)
        if moved:
            notify(
                customer=locked.customer,
                event="delivery_changed",
                dedupe_key=f"delivery-changed:{locked.number}:{locked.history.latest().history_id}",
                order_number=locked.order.number,
                context={
                    "delivery": locked,
                    "window": when,
                    "previous_window": old_window,
                    "cutoff": cutoff_text(locked),
                },
            )
    return locked


# --- the reminder ----------------------------------------------------------------------------


def _due_reminders(now: datetime):
    return (
        Delivery.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(
            status=DeliveryStatus.SCHEDULED,
            reminded_at__isnull=True,
            window_start__gt=now,
            window_start__lte=now + settings.DELIVERY_REMINDER_BEFORE,
        )
        .select_related("customer", "order")
        .prefetch_related(Prefetch("lines", queryset=DeliveryLine.objects.select_related("order_line__product")))
        .order_by("window_start", "id")
    )


def delivery_reminders_send(*, now: datetime | None = None, batch_size: int = REMINDER_BATCH) -> int:
    """Tell each customer what is coming (items, quantities, window, service) once, within
    DELIVERY_REMINDER_BEFORE of the window. Batches commit one at a time and skip rows another
    worker holds; the reads of a batch are a fixed number of queries. Returns how many were sent."""
    now = now or timezone.now()
    sent = 0
    while True:
        with transaction.atomic():
            due = list(_due_reminders(now)[:batch_size])
            for delivery in due:
                lines = list(delivery.lines.all())
                notify(
                    customer=delivery.customer,
                    event="delivery_coming",
                    dedupe_key=f"delivery-coming:{delivery.number}:{delivery.window_start:%Y%m%dT%H%M}",
                    order_number=delivery.order.number,
                    context={
                        "delivery": delivery,
                        "window": window_text(delivery.window_start, delivery.window_end, delivery.customer.time_zone),
                        "items": _items(lines),
                        "service": delivery.get_service_display(),
                    },
                )
            Delivery.objects.filter(pk__in=[d.pk for d in due]).update(reminded_at=now)
        sent += len(due)
        if len(due) < batch_size:
            return sent


# --- at the door -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Count:
    """One planned line as counted at the door."""

    line: DeliveryLine
    received: int
    condition: str
    damaged: int

    @property
    def good(self) -> int:
        return self.received - self.damaged

    @property
    def missing(self) -> int:
        return self.line.quantity - self.received

    @property
    def product(self):
        return self.line.order_line.product


@dataclass
class _Outcome:
    counts: list[_Count] = field(default_factory=list)

    def total(self, name: str) -> int:
        return sum(getattr(count, name) for count in self.counts)

    @property
    def planned(self) -> int:
        return sum(count.line.quantity for count in self.counts)


def _counted(lines, planned: dict[int, DeliveryLine]) -> _Outcome:
    """Check the count against the plan: every planned line once, never more than planned."""
    outcome, seen = _Outcome(), set()
    for item in lines:
        pk = _pk(item["order_line"])
        line = planned.get(pk)
        if line is None:
            raise RuleViolation(f"Line {pk} is not on this delivery.", code="line_not_on_delivery", order_line=pk)
        if pk in seen:
            raise RuleViolation(f"Line {pk} is counted twice.", code="line_twice", order_line=pk)
        seen.add(pk)
        received, condition = item["quantity_received"], item.get("condition") or ItemCondition.GOOD
        if not 0 <= received <= line.quantity:
            raise RuleViolation(
                f"{line.order_line.product.name}: {line.quantity} planned, so 0 to {line.quantity} received, "
                f"not {received}.",
                code="received_exceeds_planned",
                order_line=pk,
            )
        if condition not in ItemCondition.values:
            raise RuleViolation(f"Unknown condition {condition!r}.", code="condition")
        condition = condition if received else ""
        damaged = received if condition == ItemCondition.DAMAGED else 0
        outcome.counts.append(_Count(line, received, condition, damaged))
    unseen = [pk for pk in planned if pk not in seen]
    if unseen:
        raise RuleViolation(
            "Count every planned line, including those that did not arrive (0 received).",
            code="lines_not_counted",
            order_lines=unseen,
        )
    return outcome


def _detail(count: _Count) -> dict:
    return {
        "order_line": count.line.order_line_id,
        "sku": count.product.sku,
        "product": count.product.name,
        "expected": count.line.quantity,
        "received": count.received,
        "condition": count.condition,
        "missing": count.missing,
        "damaged": count.damaged,
    }


def _open_exceptions(delivery: Delivery, outcome: _Outcome, refused: bool) -> list[DeliveryException]:
    if refused:
        groups = {ExceptionKind.REFUSAL: [_detail(c) for c in outcome.counts]}
    else:
        groups = {
            ExceptionKind.SHORTFALL: [_detail(c) for c in outcome.counts if c.missing],
            ExceptionKind.DAMAGE: [_detail(c) for c in outcome.counts if c.damaged],
        }
    return [
        DeliveryException.objects.create(
            delivery=delivery, order=delivery.order, customer=delivery.customer, kind=kind, details=details
        )
        for kind, details in groups.items()
        if details
    ]


def _settle_lines(order: Order, outcome: _Outcome, refused: bool, actor) -> None:
    """Good units are delivered; the rest (missing, damaged, refused) go back to "to ship" and can
    ship again. Money already captured stays captured. A delivered unit has left us, so shipped
    never drops below delivered, and units delivered that no shipment had counted are captured
    now, as a pickup's hand-over does."""
    order_lines = {line.pk: line for line in order.lines.all()}
    to_capture = Decimal("0")
    for count in outcome.counts:
        line = order_lines[count.line.order_line_id]
        delivered = 0 if refused else count.good
        before = line.quantity_shipped
        line.quantity_delivered += delivered
        line.quantity_shipped = max(before - (count.line.quantity - delivered), line.quantity_delivered)
        if line.quantity_shipped > before:
            to_capture += units_value(line, line.quantity_shipped, order.currency) - units_value(
                line, before, order.currency
            )
    OrderLine.objects.bulk_update(order_lines.values(), ["quantity_delivered", "quantity_shipped"])
    if to_capture > 0:
        all_shipped = all(line.quantity_shipped >= line.active_quantity for line in order_lines.values())
        charges_capture(order=order, value=to_capture, actor=actor, final=all_shipped)


def _require_scheduled(delivery_id: int) -> None:
    """Checked under the order's lock before the count is validated, so a second record is a 409
    naming the allowed transitions whatever it sends."""
    current = Delivery.objects.get(pk=delivery_id)
    if current.status != DeliveryStatus.SCHEDULED:
        allowed = allowed_transitions(current)
        raise TransitionNotAllowed(
            f"Delivery {current.number} is {current.status} already; allowed: {', '.join(allowed) or 'none'}.",
            allowed=allowed,
            state=current.status,
        )


def delivery_record(*, actor, delivery: Delivery, lines, refused: bool = False) -> Delivery:
    """Record how the delivery went: `lines` = [{order_line, quantity_received, condition}] for
    every planned line. Good units are delivered; a shortfall and damaged units each open an
    exception, and the customer hears from us before they have to call. The customer may refuse
    a delivery that is short or damaged: then nothing is delivered and a refusal is opened.
    Units that did not arrive can ship again (see `_settle_lines` for the money)."""
    with transaction.atomic():
        order = order_lock(delivery.order_id)
        _require_scheduled(delivery.pk)
        planned = {
            line.order_line_id: line
            for line in DeliveryLine.objects.filter(delivery_id=delivery.pk).select_related("order_line__product")
        }
        outcome = _counted(lines, planned)
        complete = outcome.total("good") == outcome.planned
        if refused and complete:
            raise RuleViolation(
                "Everything arrived in good condition, so there is nothing to refuse; the customer can return "
                "items instead.",
                code="nothing_to_refuse",
            )
        name = "refuse" if refused else ("deliver" if complete else "deliver_partially")
        locked = transition_apply(delivery, name, actor=actor, extra_fields=("updated_at",))
        locked.recorded_at, locked.recorded_by = timezone.now(), actor
        locked.save(update_fields=["recorded_at", "recorded_by", "updated_at"])
        locked = Delivery.objects.select_related("customer", "order__location").get(pk=locked.pk)

        for count in outcome.counts:
            count.line.quantity_received, count.line.condition = count.received, count.condition
        DeliveryLine.objects.bulk_update([c.line for c in outcome.counts], ["quantity_received", "condition"])
        _settle_lines(order, outcome, refused, actor)
        order_status_refresh(order)
        exceptions = _open_exceptions(locked, outcome, refused)

        if refused:
            summary = f"Delivery {locked.number} refused at the door"
        else:
            good, planned = outcome.total("good"), _count(outcome.planned, "item")
            summary = f"Delivery {locked.number}: {good} of {planned} delivered"
            for name in ("missing", "damaged"):
                if outcome.total(name):
                    summary += f", {outcome.total(name)} {name}"
        _touchpoint(locked, actor, summary)
        if exceptions:
            _tell_about_exceptions(locked, outcome, refused)
    return locked


def _tell_about_exceptions(delivery: Delivery, outcome: _Outcome, refused: bool) -> None:
    notify(
        customer=delivery.customer,
        event="delivery_exception",
        dedupe_key=f"delivery-exception:{delivery.number}",
        context={
            "delivery": delivery,
            "order": delivery.order,
            "refused": refused,
            "missing": [{"name": c.product.name, "quantity": c.missing} for c in outcome.counts if c.missing],
            "damaged": [{"name": c.product.name, "quantity": c.damaged} for c in outcome.counts if c.damaged],
        },
    )


# --- cancelling ------------------------------------------------------------------------------


def delivery_cancel(*, actor, delivery: Delivery, reason: str) -> Delivery:
    """Call off a scheduled delivery; its units become free to book again. The customer is told."""
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation("Say why the delivery is cancelled.", code="reason_required")
    with transaction.atomic():
        order_lock(delivery.order_id)
        locked = transition_apply(delivery, "cancel", actor=actor, reason=reason, extra_fields=("updated_at",))
        locked = Delivery.objects.select_related("customer", "order__location").get(pk=locked.pk)
        _touchpoint(locked, actor, f"Delivery {locked.number} cancelled: {reason}")
        notify(
            customer=locked.customer,
            event="delivery_changed",
            dedupe_key=f"delivery-cancelled:{locked.number}",
            order_number=locked.order.number,
            context={
                "delivery": locked,
                "cancelled": True,
                "window": window_text(locked.window_start, locked.window_end, locked.customer.time_zone),
            },
        )
    return locked
