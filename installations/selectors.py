"""Availability: the free slots of the associates who can do a service at a location.

A slot is a start time on a `step` grid where one associate, working that day, can do the whole
job with its travel buffers inside one of their working spans (a weekday's overlapping or
touching spans count as one), and nothing they already hold (appointments with their buffers,
training sessions they give, absences) overlaps the blocked time. Slots start no sooner than
APPOINTMENT_BOOKING_LEAD from now, so a booking can still be moved or cancelled with notice. Working hours are wall
clock times in the location's time zone, turned into instants day by day, so a daylight-saving
change moves the instants, not the hours people work. Six queries whatever the range and the
number of associates; at most MAX_DAYS days, within BOOKING_HORIZON.

Travel: a home visit blocks its own journey there and back (`travel_buffer_minutes` before and
after the job, `Appointment.blocked_from`–`blocked_until`); an in-store job blocks no travel. So
two home visits in a row are two buffers apart (the journey back from the first, the journey out
to the second), not one, although the fitter may drive from one customer straight to the next.
That is deliberate: we do not know the distance between two customers (it may be longer than
either journey from the store), a visit's buffer also covers the way back to the store for
whatever comes next there (an in-store job, a training session), and PostgreSQL's exclusion
constraint `appointment_no_double_booking` (migration 0002) forbids two holding appointments whose
blocked ranges overlap, so two visits cannot share a buffer without giving that guarantee up.

`appointments_clashing` is the other direction: the bookings an absence or a change of working
hours strands, for a person to move or reassign (nothing is cancelled for them).
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from core.errors import RuleViolation
from core.models import AssociateProfile, Location
from core.timezones import zone_or_utc
from installations.choices import HOLDING_STATUSES, ServicePlace, SessionStatus
from installations.models import Absence, Appointment, ServiceType, TrainingSession, WorkingHours

STEP = timedelta(minutes=30)
MAX_DAYS = 31
BOOKING_HORIZON = timedelta(days=366)  # bookings are made up to a year ahead


@dataclass(frozen=True)
class Slot:
    associate_id: int
    starts_at: datetime
    ends_at: datetime


def qualified_associates(service_type: ServiceType, location: Location):
    """Associates based at `location` who hold every skill the service needs."""
    needed = list(service_type.skills.values_list("pk", flat=True))
    associates = AssociateProfile.objects.filter(home_location=location, user__is_active=True)
    if needed:
        associates = associates.annotate(matching=Count("skills", filter=Q(skills__in=needed), distinct=True)).filter(
            matching=len(needed)
        )
    return associates


def buffers(service_type: ServiceType) -> tuple[timedelta, timedelta]:
    """The job's length and the travel kept free on each side of it: for a home visit only (in
    store the customer comes to us; a buffer set on an in-store service is not applied)."""
    travel = service_type.travel_buffer_minutes if service_type.place == ServicePlace.HOME else 0
    return timedelta(minutes=service_type.duration_minutes), timedelta(minutes=travel)


def free_slots(
    *,
    service_type: ServiceType,
    location: Location,
    date_from: date,
    date_to: date,
    associate_ids=None,
    ignoring=None,
    now=None,
    step: timedelta = STEP,
) -> list[Slot]:
    """Free slots from `date_from` to `date_to` (both included, the location's calendar days),
    earliest first and, at one time, by associate. Slots starting before `now` are left out;
    `ignoring` names an appointment whose time counts as free (the one being moved)."""
    now = now or timezone.now()
    if (date_to - date_from).days >= MAX_DAYS or date_to < date_from:
        raise RuleViolation(f"Ask for 1 to {MAX_DAYS} days at a time.", code="date_range")
    if date_from > (now + BOOKING_HORIZON).date() or date_to < (now - timedelta(days=1)).date():
        return []  # outside the bookable horizon: nothing to offer (and no calendar arithmetic)
    earliest = now + settings.APPOINTMENT_BOOKING_LEAD
    zone = zone_or_utc(location.time_zone)
    associates = qualified_associates(service_type, location)
    if associate_ids is not None:
        associates = associates.filter(pk__in=list(associate_ids))
    ids = list(associates.values_list("pk", flat=True))
    if not ids:
        return []
    first = datetime.combine(date_from, datetime.min.time(), tzinfo=zone)
    last = datetime.combine(date_to + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    spans = _weekly_spans(ids)
    busy = defaultdict(list)
    holding = Appointment.objects.filter(
        associate__in=ids, status__in=HOLDING_STATUSES, blocked_from__lt=last, blocked_until__gt=first
    ).exclude(pk=ignoring)
    for who, start, end in holding.values_list("associate", "blocked_from", "blocked_until"):
        busy[who].append((start, end))
    for who, start, end in TrainingSession.objects.filter(
        trainer__in=ids, status=SessionStatus.SCHEDULED, starts_at__lt=last, ends_at__gt=first
    ).values_list("trainer", "starts_at", "ends_at"):
        busy[who].append((start, end))
    for who, start, end in Absence.objects.filter(associate__in=ids, starts_at__lt=last, ends_at__gt=first).values_list(
        "associate", "starts_at", "ends_at"
    ):
        busy[who].append((start, end))
    duration, buffer = buffers(service_type)
    slots = []
    day = date_from
    while day <= date_to:
        for who in ids:
            for weekday, starts, ends in spans.get(who, []):
                if weekday != day.weekday():
                    continue
                opens, closes = _span_instants(day, starts, ends, zone)
                slots.extend(_slots_in_span(who, opens, closes, duration, buffer, busy[who], earliest, step))
        day += timedelta(days=1)
    slots.sort(key=lambda slot: (slot.starts_at, slot.associate_id))
    return slots


def _weekly_spans(associate_ids) -> dict[int, list[tuple]]:
    """Each associate's week as merged (weekday, starts, ends) wall-clock spans, in one query."""
    spans = defaultdict(list)
    rows = WorkingHours.objects.filter(associate__in=list(associate_ids)).values_list(
        "associate", "weekday", "starts", "ends"
    )
    for row in rows:
        spans[row[0]].append(row[1:])
    return {who: _merged(rows) for who, rows in spans.items()}


def _span_instants(day: date, starts, ends, zone) -> tuple[datetime, datetime]:
    """A day's wall-clock working span as UTC instants: the arithmetic after it is in UTC, so a
    span or a job across a daylight-saving change keeps its real length."""
    return (
        datetime.combine(day, starts, tzinfo=zone).astimezone(UTC),
        datetime.combine(day, ends, tzinfo=zone).astimezone(UTC),
    )


def _merged(rows) -> list[tuple]:
    """A weekday's spans with overlapping or touching ones joined (09:00–13:00 and 13:00–17:00 is
    one working day, not two halves that no job may cross)."""
    merged = []
    for weekday, starts, ends in sorted(rows):
        if merged and merged[-1][0] == weekday and starts <= merged[-1][2]:
            merged[-1] = (weekday, merged[-1][1], max(ends, merged[-1][2]))
        else:
            merged.append((weekday, starts, ends))
    return merged


def _slots_in_span(who, opens, closes, duration, buffer, busy, earliest, step) -> list[Slot]:
    busy = [(b_start, b_end) for b_start, b_end in busy if b_start < closes and opens < b_end]  # this span's
    found = []
    start = opens + buffer
    while start + duration + buffer <= closes:
        blocked_from, blocked_until = start - buffer, start + duration + buffer
        if start >= earliest and not any(b_start < blocked_until and blocked_from < b_end for b_start, b_end in busy):
            found.append(Slot(who, start, start + duration))
        start += step
    return found


def appointments_clashing(associate: AssociateProfile, *spans, hours: bool = False, now=None) -> list[Appointment]:
    """The associate's holding appointments, not over yet, that cannot be kept as booked: those
    whose blocked time (the job and its travel) overlaps one of `spans` ((start, end) instants, an
    absence), and, with `hours`, those whose blocked time no longer fits one of the associate's
    weekly working spans as they stand (wall clock in their home location's zone, turned into
    instants day by day as in `free_slots`). Soonest first, with their customer, location and
    service; at most three queries."""
    now = now or timezone.now()
    holding = (
        Appointment.objects.filter(associate=associate, status__in=HOLDING_STATUSES, blocked_until__gt=now)
        .select_related("customer", "location", "service_type")
        .order_by("starts_at", "id")
    )
    if not hours:
        if not spans:
            return []
        overlapping = Q()
        for start, end in spans:
            overlapping |= Q(blocked_from__lt=end, blocked_until__gt=start)
        return list(holding.filter(overlapping))
    week = _weekly_spans([associate.pk]).get(associate.pk, [])
    zone = zone_or_utc(associate.home_location.time_zone)

    def fits(appointment) -> bool:
        day = appointment.blocked_from.astimezone(zone).date()  # spans end on the day they start
        for weekday, starts, ends in week:
            if weekday == day.weekday():
                opens, closes = _span_instants(day, starts, ends, zone)
                if opens <= appointment.blocked_from and appointment.blocked_until <= closes:
                    return True
        return False

    def overlaps(appointment) -> bool:
        return any(start < appointment.blocked_until and appointment.blocked_from < end for start, end in spans)

    return [appointment for appointment in holding if overlaps(appointment) or not fits(appointment)]


def appointment_list():
    """Appointments with everything a list row or a detail shows, in one query."""
    return Appointment.objects.select_related(
        "service_type",
        "associate__user",
        "customer",
        "location",
        "order_line__order",
        "order_line__product",
    )


def associate_names(ids) -> dict[int, str]:
    """Display names of associates, for the availability answer (one query)."""
    rows = AssociateProfile.objects.filter(pk__in=set(ids)).values_list(
        "pk", "user__first_name", "user__last_name", "user__email"
    )
    return {pk: f"{first} {last}".strip() or email for pk, first, last, email in rows}
