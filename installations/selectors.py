"""Availability: the free slots of the associates who can do a service at a location.

A slot is a start time on a `step` grid where one associate, working that day, can do the whole
job with its travel buffers inside one of their working spans, and nothing they already hold
(appointments with their buffers, absences) overlaps the blocked time. Working hours are wall
clock times in the location's time zone, turned into instants day by day, so a daylight-saving
change moves the instants, not the hours people work. Four queries whatever the range and the
number of associates.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from core.models import AssociateProfile, Location
from core.timezones import zone_or_utc
from installations.choices import HOLDING_STATUSES
from installations.models import Absence, Appointment, ServiceType, WorkingHours

STEP = timedelta(minutes=30)
MAX_DAYS = 31


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
    """The job's length and the travel kept free on each side of it."""
    return timedelta(minutes=service_type.duration_minutes), timedelta(minutes=service_type.travel_buffer_minutes)


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
    zone = zone_or_utc(location.time_zone)
    associates = qualified_associates(service_type, location)
    if associate_ids is not None:
        associates = associates.filter(pk__in=list(associate_ids))
    ids = list(associates.values_list("pk", flat=True))
    if not ids:
        return []
    first = datetime.combine(date_from, datetime.min.time(), tzinfo=zone)
    last = datetime.combine(date_to + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    spans = defaultdict(list)
    for row in WorkingHours.objects.filter(associate__in=ids).values_list("associate", "weekday", "starts", "ends"):
        spans[row[0]].append(row[1:])
    busy = defaultdict(list)
    holding = Appointment.objects.filter(
        associate__in=ids, status__in=HOLDING_STATUSES, blocked_from__lt=last, blocked_until__gt=first
    ).exclude(pk=ignoring)
    for who, start, end in holding.values_list("associate", "blocked_from", "blocked_until"):
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
            for weekday, starts, ends in spans[who]:
                if weekday != day.weekday():
                    continue
                # wall-clock hours of that day, then instants: the arithmetic below is in UTC, so a
                # span or a job across a daylight-saving change keeps its real length
                opens = datetime.combine(day, starts, tzinfo=zone).astimezone(UTC)
                closes = datetime.combine(day, ends, tzinfo=zone).astimezone(UTC)
                slots.extend(_slots_in_span(who, opens, closes, duration, buffer, busy[who], now, step))
        day += timedelta(days=1)
    slots.sort(key=lambda slot: (slot.starts_at, slot.associate_id))
    return slots


def _slots_in_span(who, opens, closes, duration, buffer, busy, now, step) -> list[Slot]:
    found = []
    start = opens + buffer
    while start + duration + buffer <= closes:
        blocked_from, blocked_until = start - buffer, start + duration + buffer
        if start >= now and not any(b_start < blocked_until and blocked_from < b_end for b_start, b_end in busy):
            found.append(Slot(who, start, start + duration))
        start += step
    return found


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
