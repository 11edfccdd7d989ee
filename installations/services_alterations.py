"""Alterations: post-purchase work on an item, from the request to the customer collecting it.

requested → measured → in progress → quality check → ready → collected; a failed quality check
sends the work back to in progress, and an order is cancelled only before the work starts (cloth
once cut stays cut).

Money and the hand-over reuse orders: the request sells the fee as a line of a new order (its own
charges ledger: held on request, captured at collection, released on cancellation), and a passed
quality check makes that order ready for pickup at the store (one-time code, reminder, deadline,
hand-over checking the code). The fee's product is not stocked, so the pickup reserves nothing,
and a pickup not collected in time keeps the customer's item and its fee owed: an associate
renews the pickup.

Locks, in this order: the alteration row, then what orders lock (pickup, order).
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from core.choices import Channel, LocationKind, TouchpointKind
from core.errors import Conflict, RuleViolation
from core.services.inventory import check_home_location
from core.services.notifications import notify
from core.services.timeline import touchpoint_record
from core.timezones import zone_or_utc
from core.workflow import transition_apply, transition_history
from installations.catalogue import covers
from installations.choices import AlterationStatus
from installations.models import Alteration, AlterationKind
from installations.selectors import qualified_associates
from orders.choices import FulfilmentMethod, OrderSource, PickupStatus
from orders.models import OrderLine, Pickup
from orders.services.orders import order_create, order_lines_cancel
from orders.services.pickups import pickup_hand_over, pickup_ready

ELSEWHERE = "Associates take and work alterations of their home location only."
MAX_MEASUREMENTS = 40
MAX_MEASUREMENT_TEXT = 60


def _check_assignee(kind: AlterationKind, location, associate) -> None:
    if associate.home_location_id != location.pk:
        raise RuleViolation(f"{associate} does not work at {location.name}.", code="assignee_elsewhere")
    if not qualified_associates(kind, location).filter(pk=associate.pk).exists():
        raise RuleViolation(
            f"{associate} does not have every skill {kind.name.lower()} needs.", code="assignee_not_qualified"
        )


def alteration_request(
    *, actor, order_line, kind: AlterationKind, location, specification: str, assigned_to=None
) -> Alteration:
    """Take a work order for a purchased item at a store: due after the kind's turnaround, its fee
    sold on an order of its own and held until collection. One order per unit bought and kind."""
    specification = (specification or "").strip()
    product = order_line.product
    if not specification:
        raise RuleViolation("Say what is to be done.", code="specification_required")
    if not kind.is_active:
        raise RuleViolation(f"{kind.name} is not offered any more.", code="kind_inactive")
    if not product.alterable or not covers(kind, product):
        raise RuleViolation(f"{kind.name} is not done on {product.name}.", code="kind_not_for_product")
    if location.kind != LocationKind.STORE or not location.is_active:
        raise RuleViolation(f"{location.name} is not a store that does alterations.", code="not_a_store")
    check_home_location(actor, location.pk, ELSEWHERE)
    if assigned_to is not None:
        _check_assignee(kind, location, assigned_to)
    if kind.service_product.stocked or kind.service_product.returnable:
        raise RuleViolation(
            f"{kind.name}'s fee must be sold as a product that is neither stocked nor returnable.",
            code="kind_misconfigured",
        )
    order = order_line.order
    with transaction.atomic():
        # counted under the purchase line's lock: two requests never both take its last unit
        OrderLine.objects.select_for_update(no_key=True).filter(pk=order_line.pk).first()
        taken = (
            Alteration.objects.filter(order_line=order_line, kind=kind)
            .exclude(status=AlterationStatus.CANCELLED)
            .count()
        )
        if taken >= order_line.active_quantity:
            raise RuleViolation(
                f"Every unit of this purchase has its {kind.name.lower()} ordered already.",
                code="units_already_ordered",
            )
        service_order = order_create(
            actor=actor,
            customer=order.customer,
            lines=[{"product": kind.service_product, "quantity": 1, "unit_price": kind.fee}],
            channel=Channel.STORE,
            location=location,
            associate=actor,
            currency=kind.currency,
            fulfilment=FulfilmentMethod.PICKUP,
            source=OrderSource.SERVICE,
        )
        today = timezone.localdate(timezone.now(), zone_or_utc(location.time_zone))
        alteration = Alteration.objects.create(
            order_line=order_line,
            customer_id=order.customer_id,
            kind=kind,
            location=location,
            specification=specification[:5000],
            assigned_to=assigned_to,
            due_on=today + timedelta(days=kind.turnaround_days),
            fee=service_order.total,
            currency=service_order.currency,
            service_order=service_order,
            requested_by=actor,
        )
        _touchpoint(
            alteration,
            actor,
            f"{kind.name} of {product.name} ordered, ready by {alteration.due_on:%A %d %B %Y} "
            f"for {alteration.fee} {alteration.currency} ({alteration.number})",
        )
        notify(
            customer=order.customer,
            event="alteration_requested",
            dedupe_key=f"alteration-requested:{alteration.number}",
            order_number=order.number,
            context=_context(alteration),
        )
    return alteration


def _locked(alteration: Alteration) -> Alteration:
    """The alteration's row alone (`of=self`), with what the steps read."""
    return (
        Alteration.objects.select_for_update(of=("self",))
        .select_related("kind", "location", "order_line__product", "order_line__order", "customer", "assigned_to")
        .get(pk=alteration.pk)
    )


def _step(alteration: Alteration, actor, name: str, *, reason: str = "", extra_fields=(), **kwargs) -> Alteration:
    """Apply one workflow step at the alteration's store (the caller's transaction)."""
    check_home_location(actor, alteration.location_id, ELSEWHERE)
    locked = _locked(alteration)
    stepped = transition_apply(locked, name, actor=actor, reason=reason, extra_fields=extra_fields, **kwargs)
    for cached in ("kind", "location", "order_line", "customer", "assigned_to"):
        setattr(stepped, cached, getattr(locked, cached))
    return stepped


def alteration_assign(*, actor, alteration: Alteration, associate) -> Alteration:
    """Give the work to a tailor or technician of the store with the kind's skills, until it is
    submitted for its check."""
    check_home_location(actor, alteration.location_id, ELSEWHERE)
    with transaction.atomic():
        alteration = _locked(alteration)
        # not once submitted: whoever did the work must not hand it on and check it themselves
        if alteration.status not in (
            AlterationStatus.REQUESTED,
            AlterationStatus.MEASURED,
            AlterationStatus.IN_PROGRESS,
        ):
            raise Conflict(f"A {alteration.get_status_display().lower()} alteration is not reassigned.", code="closed")
        _check_assignee(alteration.kind, alteration.location, associate)
        alteration.assigned_to = associate
        alteration.save(update_fields=["assigned_to"])
    return alteration


def _clean_measurements(measurements) -> dict:
    if not isinstance(measurements, dict) or not measurements:
        raise RuleViolation("Give at least one measurement, as name and value.", code="measurements_required")
    if len(measurements) > MAX_MEASUREMENTS:
        raise RuleViolation(f"At most {MAX_MEASUREMENTS} measurements.", code="too_many_measurements")
    clean = {}
    for name, value in measurements.items():
        name = str(name).strip()
        value = str(value).strip() if isinstance(value, str | int | float) and not isinstance(value, bool) else ""
        too_long = len(name) > MAX_MEASUREMENT_TEXT or len(value) > MAX_MEASUREMENT_TEXT
        if not name or not value or too_long or "\x00" in name + value:
            raise RuleViolation(
                f"Each measurement is a name and a value of up to {MAX_MEASUREMENT_TEXT} characters.",
                code="bad_measurement",
                measurement=name[:MAX_MEASUREMENT_TEXT],
            )
        clean[name] = value
    return clean


def alteration_measure(*, actor, alteration: Alteration, measurements: dict) -> Alteration:
    """Record the measurements (again, if the customer comes back before the work starts)."""
    clean = _clean_measurements(measurements)
    with transaction.atomic():
        alteration = _step(
            alteration,
            actor,
            "measure",
            extra_fields=["measurements", "measured_at"],
            measurements=clean,
            at=timezone.now(),
        )
        _touchpoint(alteration, actor, f"Measured for {alteration.kind.name.lower()} ({alteration.number})")
    return alteration


def alteration_start(*, actor, alteration: Alteration) -> Alteration:
    with transaction.atomic():
        if _locked(alteration).assigned_to_id is None:
            raise RuleViolation("Assign the work to someone before starting it.", code="unassigned")
        return _step(alteration, actor, "start")


def alteration_submit(*, actor, alteration: Alteration) -> Alteration:
    """The work is done: it waits for someone to check it."""
    with transaction.atomic():
        return _step(alteration, actor, "submit")


def alteration_quality_check(*, actor, alteration: Alteration, passed: bool, note: str = "") -> Alteration:
    """Someone other than whoever did the work (the assignee, and whoever started or submitted it)
    checks it. Passed: the item is ready and waits for pickup at the store (the customer gets the
    code). Failed: back to work, saying what to fix."""
    note = (note or "").strip()[:500]
    with transaction.atomic():
        current = _locked(alteration)
        if actor.pk in _workers(current):
            raise RuleViolation("Someone else checks your work.", code="own_work")
        if not passed:
            if not note:
                raise RuleViolation("Say what is to be put right.", code="note_required")
            return _step(current, actor, "rework", reason=note, extra_fields=["quality_note"], note=note)
        alteration = _step(
            current, actor, "approve", extra_fields=["quality_note", "ready_at"], note=note, at=timezone.now()
        )
        _make_pickup(alteration, actor)
        _touchpoint(
            alteration, actor, f"{alteration.kind.name} done and checked: ready for pickup ({alteration.number})"
        )
    return alteration


def _workers(alteration: Alteration) -> set[int]:
    """Users who did the work: the assignee, and whoever started or submitted it since the last check."""
    workers = {alteration.assigned_to.user_id} if alteration.assigned_to_id else set()
    steps = transition_history(alteration).filter(transition__in=["start", "submit"]).values_list("actor_id", flat=True)
    return workers | {actor_id for actor_id in steps if actor_id is not None}


def _make_pickup(alteration: Alteration, actor) -> None:
    pickup = pickup_ready(actor=actor, order=alteration.service_order, location=alteration.location)
    alteration.pickup = pickup
    alteration.save(update_fields=["pickup"])


def alteration_pickup_renew(*, actor, alteration: Alteration) -> Alteration:
    """The customer did not come in time (or the pickup was called off): the item is still here,
    so it gets a new pickup with a new code and deadline."""
    with transaction.atomic():
        alteration = _locked(alteration)
        check_home_location(actor, alteration.location_id, ELSEWHERE)
        if alteration.status != AlterationStatus.READY:
            raise Conflict("Only an alteration ready for pickup gets a new pickup.", code="not_ready")
        if _handed_over(alteration):
            return _close_collected(alteration, actor)
        open_pickup = Pickup.objects.filter(pk=alteration.pickup_id, status=PickupStatus.READY).exists()
        if open_pickup:
            raise Conflict("Its pickup is still open; the customer has the code.", code="pickup_open")
        _make_pickup(alteration, actor)
    return alteration


def _handed_over(alteration: Alteration) -> bool:
    return Pickup.objects.filter(pk=alteration.pickup_id, status=PickupStatus.COLLECTED).exists()


def _close_collected(alteration: Alteration, actor) -> Alteration:
    """Its pickup was handed over (on the pickups page): the alteration is collected too. The event
    `pickup.collected` normally closes it; this covers an event not delivered yet (or lost)."""
    return transition_apply(alteration, "collect", actor=actor, extra_fields=["closed_at"], at=timezone.now())


def alteration_collect(*, actor, alteration: Alteration, code: str) -> Alteration:
    """The customer shows the pickup code and takes the item; the fee is captured (orders' hand-over)."""
    with transaction.atomic():
        alteration = _locked(alteration)
        if alteration.status != AlterationStatus.READY or alteration.pickup_id is None:
            raise Conflict(
                f"A {alteration.get_status_display().lower()} alteration is not handed over.",
                code="not_ready",
                allowed=[],
            )
        if _handed_over(alteration):
            return _close_collected(alteration, actor)
        pickup_hand_over(actor=actor, pickup=alteration.pickup, code=code)
        alteration = _step(alteration, actor, "collect", extra_fields=["closed_at"], at=timezone.now())
    return alteration


def alteration_collected_with_pickup(*, pickup_id: int, order_id: int) -> None:
    """Event handler (`pickup.collected`): the pickup was handed over on the pickups page, so the
    alteration it belongs to is collected too. Safe to run twice."""
    with transaction.atomic():
        alteration = (
            Alteration.objects.select_for_update(of=("self",))
            .filter(pickup_id=pickup_id, service_order_id=order_id, status=AlterationStatus.READY)
            .first()
        )
        if alteration is not None:
            _close_collected(alteration, None)


def alteration_cancel(*, actor, alteration: Alteration, reason: str) -> Alteration:
    """Call the work off before it starts; the fee's hold is released (or refunded) through its
    order, which tells the customer."""
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation("Say why the alteration is cancelled.", code="reason_required")
    with transaction.atomic():
        alteration = _step(alteration, actor, "cancel", reason=reason, extra_fields=["closed_at"], at=timezone.now())
        order = alteration.service_order
        line = order.lines.get()
        order_lines_cancel(actor=actor, order=order, lines=[(line, 1)], reason=f"{alteration.number}: {reason}"[:300])
        _touchpoint(alteration, actor, f"{alteration.kind.name} cancelled: {reason} ({alteration.number})")
    return alteration


# --- what the timeline and the messages say ---------------------------------------------------


def _touchpoint(alteration: Alteration, actor, summary: str) -> None:
    touchpoint_record(
        customer=alteration.customer,
        kind=TouchpointKind.ALTERATION,
        channel=Channel.STORE,
        summary=summary,
        associate=actor,
        location=alteration.location,
        product=alteration.order_line.product,
        order_number=alteration.order_line.order.number,
        subject=alteration,
    )


def _context(alteration: Alteration) -> dict:
    return {
        "alteration_number": alteration.number,
        "kind": alteration.kind.name,
        "product": alteration.order_line.product.name,
        "specification": alteration.specification,
        "due_on": f"{alteration.due_on:%A %d %B %Y}",
        "fee": alteration.fee,
        "currency": alteration.currency,
        "where": alteration.location.name,
    }
