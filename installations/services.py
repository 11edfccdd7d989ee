"""Booking, rescheduling, cancelling and doing installation and assembly appointments.

Booking takes one of the slots `selectors.free_slots` offers. Two bookings of one associate can
never overlap: a booking locks the associate's row, checks the time is free and inserts, so
racing bookings take turns and the losers get a 409 offering the next free slots; on PostgreSQL
the exclusion constraint `appointment_no_double_booking` is the database's own guarantee behind
that (any writer that skipped the service still cannot overlap); on SQLite every writer holds the
database's write lock for its whole transaction (decision 0002).

Locks, in this order: the appointment row alone (moves; `of=self`, so the service type and the
location it joins stay unlocked), then its associate (`no_key`: bookings' foreign keys to the
associate still go through). Absences and working hours lock their associate (several in id
order) too, so a booking racing them either sees the change or is seen by the clash check after.

A no-show (the customer was not there) frees the unit for a new booking, like a cancellation.
"""

from contextlib import contextmanager
from datetime import UTC, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.choices import Channel, LocationKind, TouchpointKind
from core.errors import Conflict, RuleViolation
from core.models import AssociateProfile
from core.services.inventory import check_home_location
from core.services.notifications import notify
from core.services.timeline import touchpoint_record
from core.sweeps import in_batches, next_batch
from core.timezones import zone_or_utc
from core.workflow import transition_apply
from installations.catalogue import covers
from installations.choices import UNIT_TAKING_STATUSES, AppointmentStatus, ServicePlace
from installations.models import Absence, Appointment, ServiceType, WorkingHours
from installations.selectors import buffers, free_slots, qualified_associates
from orders.models import OrderLine

OFFERED = 5  # next free slots offered with a refusal


def _check_offer(service_type: ServiceType, order_line, address) -> None:
    """What booking and requesting both check: the service is offered for this product, and a
    home visit knows where."""
    if not service_type.is_active:
        raise RuleViolation(f"{service_type.name} is not offered any more.", code="service_inactive")
    if not covers(service_type, order_line.product):
        raise RuleViolation(
            f"{service_type.name} is not a service for {order_line.product.name}.", code="service_not_for_product"
        )
    if service_type.place == ServicePlace.HOME and address is None:
        raise RuleViolation("A home visit needs the address.", code="address_required")


def _check_associate(service_type: ServiceType, location, associate) -> None:
    if associate.home_location_id != location.pk:
        raise RuleViolation(f"This associate works at another store than {location.name}.", code="associate_elsewhere")
    if not qualified_associates(service_type, location).filter(pk=associate.pk).exists():
        raise RuleViolation(
            "This associate does not have every skill the service needs.", code="associate_not_qualified"
        )


def _slot(service_type: ServiceType, starts_at) -> dict:
    """The job's times and the blocked span with its travel buffers, in UTC."""
    if timezone.is_naive(starts_at):
        raise RuleViolation("Give the time with its UTC offset.", code="naive_time")
    duration, buffer = buffers(service_type)
    starts_at = starts_at.astimezone(UTC)
    return {
        "starts_at": starts_at,
        "ends_at": starts_at + duration,
        "blocked_from": starts_at - buffer,
        "blocked_until": starts_at + duration + buffer,
    }


@contextmanager
def _refused_when_taken(service_type, location, starts_at):
    """PostgreSQL's exclusion constraint caught a concurrent booking of the same time: a 409
    offering the next free slots, like the service's own check."""
    try:
        yield
    except IntegrityError as exc:
        if "appointment_no_double_booking" not in str(exc):
            raise
        raise _taken(service_type, location, starts_at) from exc


def appointment_book(
    *, actor, order_line, service_type: ServiceType, associate, starts_at, address=None
) -> Appointment:
    """Book `associate` for `service_type` on `order_line`'s product at `starts_at`, one of the
    free slots. A home visit needs the customer's `address` (copied). Refused with the next free
    slots when the slot is not (or no longer) free."""
    _check_offer(service_type, order_line, address)
    slot = _slot(service_type, starts_at)
    location = associate.home_location
    _check_associate(service_type, location, associate)
    with _refused_when_taken(service_type, location, slot["starts_at"]), transaction.atomic():
        _lock_associate(associate)
        _check_units_left(order_line, service_type)
        if not _is_free(service_type, location, associate, slot["starts_at"]):
            raise _taken(service_type, location, slot["starts_at"])
        appointment = Appointment.objects.create(
            order_line=order_line,
            customer_id=order_line.order.customer_id,
            service_type=service_type,
            associate=associate,
            location=location,
            booked_by=actor,
            **slot,
            **_address_fields(address),
        )
        _touchpoint(appointment, actor, f"{service_type.name} booked for {_local(appointment)} ({appointment.number})")
        _tell(appointment, "appointment_booked")
    return appointment


def appointment_request(
    *, actor, order_line, service_type: ServiceType, location, address=None, preferred: str = ""
) -> Appointment:
    """Ask for the service without taking a slot (the customer says when suits them); it waits in
    the store's queue of requests until an associate schedules it. Takes one unit bought."""
    _check_offer(service_type, order_line, address)
    if actor is not None and getattr(actor, "customer", None) is None:
        check_home_location(actor, location.pk, "Associates take requests for their home location only.")
    if location.kind != LocationKind.STORE or not location.is_active:
        raise RuleViolation(f"{location.name} is not a store that sends people out.", code="not_a_store")
    with transaction.atomic():
        _check_units_left(order_line, service_type)
        appointment = Appointment.objects.create(
            order_line=order_line,
            customer_id=order_line.order.customer_id,
            service_type=service_type,
            location=location,
            status=AppointmentStatus.REQUESTED,
            preferred=(preferred or "").strip()[:300],
            booked_by=actor,
            **_address_fields(address),
        )
        _touchpoint(appointment, actor, f"{service_type.name} asked for ({appointment.number})")
        _tell(appointment, "appointment_requested", preferred=appointment.preferred)
    return appointment


def appointment_schedule(*, actor, appointment: Appointment, associate, starts_at) -> Appointment:
    """Give a requested appointment its associate (of the store, with the skills) and one of their
    free slots; the customer is told the time as for a booking."""
    with transaction.atomic():
        current = (
            Appointment.objects.select_for_update(of=("self",))
            .select_related("service_type", "location")
            .get(pk=appointment.pk)
        )
        service_type, location = current.service_type, current.location
        slot = _slot(service_type, starts_at)
        _check_associate(service_type, location, associate)
        with _refused_when_taken(service_type, location, slot["starts_at"]), transaction.atomic():
            _lock_associate(associate)
            if not _is_free(service_type, location, associate, slot["starts_at"]):
                raise _taken(service_type, location, slot["starts_at"])
            appointment = transition_apply(
                current,
                "schedule",
                actor=actor,
                extra_fields=["associate", *slot],
                associate=associate,
                slot=slot,
            )
        appointment.service_type, appointment.location = service_type, location
        _touchpoint(appointment, actor, f"{service_type.name} booked for {_local(appointment)} ({appointment.number})")
        _tell(appointment, "appointment_booked")
    return appointment


def _check_units_left(order_line, service_type) -> None:
    """One appointment per unit bought, asked for, holding or done (three ovens: three fittings at
    most); a cancelled or missed (no-show) one leaves its unit to book again. Counted under the
    order line's row lock, so two requests (which lock no associate) cannot both take the last
    unit. Caller's transaction."""
    OrderLine.objects.select_for_update(no_key=True).filter(pk=order_line.pk).first()
    booked = Appointment.objects.filter(
        order_line=order_line, service_type=service_type, status__in=UNIT_TAKING_STATUSES
    ).count()
    if booked >= order_line.active_quantity:
        raise RuleViolation(
            f"Every unit of this purchase has its {service_type.name.lower()} booked already.",
            code="units_already_booked",
        )


def _lock_associate(associate) -> None:
    """Bookings of one associate take turns: the check that the time is free then sees every
    booking committed before it. Without the lock, racing inserts wait on each other inside the
    exclusion constraint's check and PostgreSQL breaks the tie as a deadlock (a 500), not a 409."""
    AssociateProfile.objects.select_for_update(no_key=True).filter(pk=associate.pk).first()


def _is_free(service_type, location, associate, starts_at, ignoring=None) -> bool:
    day = timezone.localtime(starts_at, zone_or_utc(location.time_zone)).date()
    slots = free_slots(
        service_type=service_type,
        location=location,
        date_from=day,
        date_to=day,
        associate_ids=[associate.pk],
        ignoring=ignoring,
    )
    return any(slot.starts_at == starts_at for slot in slots)


def _taken(service_type, location, starts_at, moving: Appointment | None = None) -> Conflict:
    """The slot is gone: say so and offer the next free ones at the location, of any associate
    for a booking; for a move (`moving`), of its own associate only (a move keeps the associate),
    its own time counting as free and not offered."""
    zone = zone_or_utc(location.time_zone)
    day = timezone.localtime(starts_at, zone).date()
    narrowed = {} if moving is None else {"associate_ids": [moving.associate_id], "ignoring": moving.pk}
    offered = [
        {"associate": slot.associate_id, "starts_at": slot.starts_at.isoformat(), "ends_at": slot.ends_at.isoformat()}
        for slot in free_slots(
            service_type=service_type, location=location, date_from=day, date_to=day + timedelta(days=13), **narrowed
        )
        if slot.starts_at >= starts_at and (moving is None or slot.starts_at != moving.starts_at)
    ][:OFFERED]
    return Conflict(
        "That time is not free (any more); here are the next free ones.", code="slot_taken", next_slots=offered
    )


def _address_fields(address) -> dict:
    if address is None:
        return {}
    return {
        "address_line1": address.line1,
        "address_line2": address.line2,
        "city": address.city,
        "postcode": address.postcode,
        "country": address.country,
    }


def _check_notice(appointment: Appointment, actor, doing: str) -> None:
    """Customers move or cancel with notice; staff may at any time (a fitter falls ill)."""
    if actor is not None and getattr(actor, "customer", None) is None:
        return
    if appointment.starts_at is None:  # a request: nobody is on their way yet
        return
    notice = settings.APPOINTMENT_CHANGE_NOTICE
    if appointment.starts_at - timezone.now() < notice:
        raise Conflict(
            f"An appointment is {doing} up to {int(notice.total_seconds() // 3600)} hours before it starts; "
            "call the store instead.",
            code="too_late_to_change",
        )


def appointment_reschedule(*, actor, appointment: Appointment, starts_at, reason: str = "") -> Appointment:
    """Move the appointment to another free slot of the same associate, with notice. The reason,
    when given, goes on the timeline and to the customer."""
    reason = (reason or "").strip()[:300]
    with transaction.atomic():
        appointment = (
            Appointment.objects.select_for_update(of=("self",))
            .select_related("service_type", "location", "associate")
            .get(pk=appointment.pk)
        )
        if appointment.status != AppointmentStatus.SCHEDULED:
            raise Conflict(
                f"A {appointment.get_status_display().lower()} appointment is not moved.", code="not_movable"
            )
        _check_notice(appointment, actor, "moved")
        previous = _local(appointment)
        duration, buffer = buffers(appointment.service_type)
        if timezone.is_naive(starts_at):
            raise RuleViolation("Give the time with its UTC offset.", code="naive_time")
        starts_at = starts_at.astimezone(UTC)
        _lock_associate(appointment.associate)
        free = _is_free(
            appointment.service_type, appointment.location, appointment.associate, starts_at, ignoring=appointment.pk
        )
        if not free:
            raise _taken(appointment.service_type, appointment.location, starts_at, moving=appointment)
        appointment.starts_at, appointment.ends_at = starts_at, starts_at + duration
        appointment.blocked_from, appointment.blocked_until = starts_at - buffer, starts_at + duration + buffer
        appointment.reminded_at = None  # the new time gets its own reminder
        appointment.save(update_fields=["starts_at", "ends_at", "blocked_from", "blocked_until", "reminded_at"])
        because = f": {reason}" if reason else ""
        _touchpoint(
            appointment,
            actor,
            f"{appointment.service_type.name} moved from {previous} to {_local(appointment)}{because}",
        )
        _tell(appointment, "appointment_changed", occasion=timezone.now().isoformat(), previous=previous, reason=reason)
    return appointment


def appointment_cancel(*, actor, appointment: Appointment, reason: str) -> Appointment:
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation("Say why the appointment is cancelled.", code="reason_required")
    _check_notice(appointment, actor, "cancelled")
    with transaction.atomic():
        appointment = transition_apply(appointment, "cancel", actor=actor, reason=reason)
        what = "request" if appointment.starts_at is None else f"on {_local(appointment)}"
        _touchpoint(appointment, actor, f"{appointment.service_type.name} {what} cancelled: {reason}")
        _tell(appointment, "appointment_cancelled", reason=reason)
    return appointment


def appointment_start(*, actor, appointment: Appointment) -> Appointment:
    with transaction.atomic():
        appointment = transition_apply(appointment, "start", actor=actor)
        _touchpoint(appointment, actor, f"{appointment.service_type.name} started ({appointment.number})")
    return appointment


def appointment_complete(*, actor, appointment: Appointment, checklist, notes: str, signed_off_by: str) -> Appointment:
    if not (signed_off_by or "").strip():
        raise RuleViolation("The customer (or whoever was there) signs the work off.", code="sign_off_required")
    with transaction.atomic():
        appointment = transition_apply(
            appointment,
            "complete",
            actor=actor,
            extra_fields=["completed_at", "checklist", "notes", "signed_off_by"],
            at=timezone.now(),
            checklist=checklist,
            notes=notes,
            signed_off_by=signed_off_by.strip()[:120],
        )
        _touchpoint(appointment, actor, f"{appointment.service_type.name} completed, signed off by {signed_off_by}")
    return appointment


def appointment_no_show(*, actor, appointment: Appointment, note: str) -> Appointment:
    """The customer was not there: the associate came to the address and nobody was in, or the
    customer did not come to the store. Recorded by staff, once the start time has passed; a
    started appointment is not a no-show (the customer was there). `note` says what happened and
    stays on the record; the customer is told we missed them and how to book again, and the unit
    may be booked again."""
    note = (note or "").strip()
    if not note:
        raise RuleViolation("Say what happened (rang, called, waited …).", code="note_required")
    if actor is None or not actor.has_perm("installations.change_appointment"):
        raise PermissionDenied("Only staff record that the customer was not there.")
    with transaction.atomic():
        current = Appointment.objects.select_for_update(of=("self",)).select_related("location").get(pk=appointment.pk)
        if current.status == AppointmentStatus.SCHEDULED and current.starts_at > timezone.now():
            raise Conflict(
                f"It starts on {_local(current)}; a no-show is recorded once that time has passed.",
                code="too_early",
            )
        appointment = transition_apply(current, "mark_no_show", actor=actor, reason=note)
        _touchpoint(
            appointment, actor, f"{appointment.service_type.name} on {_local(appointment)}: customer not there ({note})"
        )
        _tell(appointment, "appointment_no_show")
    return appointment


# --- absences and working hours ---------------------------------------------------------------
# They never move or cancel appointments: `selectors.appointments_clashing` names the bookings a
# change strands, for a person to reschedule or reassign.


REASON_MAX = Absence._meta.get_field("reason").max_length


def _lock_associates(*associate_ids) -> None:
    list(AssociateProfile.objects.select_for_update(no_key=True).filter(pk__in=associate_ids).order_by("pk"))


def absence_record(
    *, actor, associate, starts_at, ends_at, reason: str = "", absence: Absence | None = None
) -> Absence:
    """Record time `associate` is away although their week says they work (or change `absence`
    to this). Free slots leave it out at once; bookings already in it stay as they are."""
    if starts_at is None or ends_at is None or timezone.is_naive(starts_at) or timezone.is_naive(ends_at):
        raise RuleViolation("Give the times with their UTC offset.", code="naive_time")
    if ends_at <= starts_at:
        raise RuleViolation("An absence ends after it starts.", code="absence_span")
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise RuleViolation(f"Say why in at most {REASON_MAX} characters.", code="reason_too_long")
    absence = absence or Absence()
    with transaction.atomic():
        _lock_associates(associate.pk)
        absence.associate, absence.reason = associate, reason
        absence.starts_at, absence.ends_at = starts_at.astimezone(UTC), ends_at.astimezone(UTC)
        absence.save()
    return absence


def working_hours_set(
    *, actor, associate, weekday: int, starts, ends, working_hours: WorkingHours | None = None
) -> WorkingHours:
    """Add a weekly working span of `associate` (wall clock in their home location's zone), or
    change `working_hours` to it. Bookings outside the new week stay as they are."""
    if not 0 <= weekday <= 6:
        raise RuleViolation("The weekday is 0 (Monday) to 6 (Sunday).", code="weekday")
    if ends <= starts:
        raise RuleViolation("Working hours end after they start.", code="hours_span")
    working_hours = working_hours or WorkingHours()
    with transaction.atomic():
        previous = None
        if working_hours.pk is not None:  # the row's associate as stored: it may be handed to another
            previous = WorkingHours.objects.filter(pk=working_hours.pk).values_list("associate", flat=True).first()
        _lock_associates(*{associate.pk, previous} - {None})
        working_hours.associate = associate
        working_hours.weekday, working_hours.starts, working_hours.ends = weekday, starts, ends
        working_hours.save()
    return working_hours


def working_hours_remove(*, actor, working_hours: WorkingHours) -> None:
    """Take a weekly working span away. Bookings in it stay as they are."""
    with transaction.atomic():
        _lock_associates(working_hours.associate_id)
        WorkingHours.objects.filter(pk=working_hours.pk).delete()


def _local(appointment: Appointment) -> str:
    if appointment.starts_at is None:
        return "a time still to be agreed"
    zone = zone_or_utc(appointment.location.time_zone)
    return f"{timezone.localtime(appointment.starts_at, zone):%A %d %B %Y, %H:%M} ({zone.key})"


def _touchpoint(appointment: Appointment, actor, summary: str) -> None:
    staff = actor is not None and getattr(actor, "customer", None) is None
    touchpoint_record(
        customer=appointment.order_line.order.customer,
        kind=TouchpointKind.INSTALLATION,
        channel=Channel.STORE if staff else Channel.APP,
        summary=summary,
        associate=actor if staff else None,
        location=appointment.location,
        product=appointment.order_line.product,
        order_number=appointment.order_line.order.number,
        subject=appointment,
    )


def _occasion(appointment: Appointment) -> str:
    return appointment.starts_at.isoformat() if appointment.starts_at else "request"


def _tell(appointment: Appointment, event: str, occasion: str = "", **context) -> None:
    """`occasion` tells two messages of one event apart (each move is told, even back to a time
    told before); by default the appointment's time."""
    notify(
        customer=appointment.order_line.order.customer,
        event=event,
        dedupe_key=f"{event}:{appointment.number}:{occasion or _occasion(appointment)}",
        order_number=appointment.order_line.order.number,
        context={
            "appointment_number": appointment.number,
            "service": appointment.service_type.name,
            "product": appointment.order_line.product.name,
            "when": _local(appointment),
            "scheduled": appointment.starts_at is not None,
            "at_home": appointment.service_type.place == ServicePlace.HOME,
            "where": appointment.location.name,
            **context,
        },
    )


# --- the reminder sweep -----------------------------------------------------------------------

SWEEP_BATCH = 100


def claimable(queryset, after=None):
    """The next batch of scheduled, not yet reminded appointments in start order (see
    `core.sweeps.next_batch`), along the appointment_to_remind index."""
    due = queryset.filter(status=AppointmentStatus.SCHEDULED, reminded_at__isnull=True).select_related(
        "service_type", "location", "order_line__order__customer", "order_line__product"
    )
    return next_batch(due, key="starts_at", size=SWEEP_BATCH, after=after)


def appointments_remind(*, now=None) -> int:
    """Tell each customer the day before (APPOINTMENT_REMINDER_HOURS) what is coming, once. Safe
    to run twice and beside another sweep. Returns how many were reminded."""
    now = now or timezone.now()
    reminded = 0

    def remind(batch):
        nonlocal reminded
        for appointment in batch:
            appointment.reminded_at = now
            appointment.save(update_fields=["reminded_at"])
            _tell(appointment, "appointment_reminder")
        reminded += len(batch)

    due = Appointment.objects.filter(starts_at__gt=now, starts_at__lte=now + settings.APPOINTMENT_REMINDER_BEFORE)
    in_batches(lambda after: claimable(due, after), remind, key="starts_at")
    return reminded
