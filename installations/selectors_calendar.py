"""Reads for the installations pages: a week's calendar of a location or an associate, an
associate's jobs of the day, an appointment with its history, and what can be booked on an order.

Each read runs a fixed number of queries whatever the number of entries. Days are the calendar
days of the location's time zone (an associate's: their home location's)."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Q
from django.utils import timezone

from core.models import AssociateProfile
from core.workflow import transition_history
from installations.catalogue import covers
from installations.choices import SEATED_STATUSES, AlterationStatus, AppointmentStatus, SessionStatus
from installations.models import Alteration, Appointment, ServiceType, TrainingSession
from installations.selectors import Slot, appointment_list, associate_names
from orders.models import Order

# Alterations that need nothing more from the store.
ALTERATION_DONE = (AlterationStatus.COLLECTED, AlterationStatus.CANCELLED)


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _day_bounds(first: date, last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants from `first`'s midnight to the midnight after `last`, in `zone`."""
    return (
        datetime.combine(first, time.min, tzinfo=zone),
        datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone),
    )


@dataclass
class Day:
    date: date
    appointments: list = field(default_factory=list)
    sessions: list = field(default_factory=list)
    alterations: list = field(default_factory=list)


def _sessions():
    return TrainingSession.objects.select_related("course", "trainer__user").annotate(
        seats_taken=Count("enrolments", filter=Q(enrolments__status__in=SEATED_STATUSES))
    )


def _alterations():
    return Alteration.objects.select_related("kind", "customer", "assigned_to__user")


def week_calendar(*, week: date, zone: ZoneInfo, location=None, associate=None) -> list[Day]:
    """Monday to Sunday of the week holding `week`: the appointments, training sessions and
    alteration due dates of `location` or of `associate`, each day in time order. Three queries."""
    monday = week_start(week)
    days = [Day(monday + timedelta(days=offset)) for offset in range(7)]
    first, last = _day_bounds(monday, monday + timedelta(days=6), zone)
    if associate is not None:
        appointments = appointment_list().filter(associate=associate)
        sessions = _sessions().filter(trainer=associate)
    else:
        appointments = appointment_list().filter(location=location)
        sessions = _sessions().filter(location=location)
    by_date = {day.date: day for day in days}
    for appointment in appointments.filter(starts_at__gte=first, starts_at__lt=last).order_by("starts_at", "id"):
        by_date[timezone.localtime(appointment.starts_at, zone).date()].appointments.append(appointment)
    for session in sessions.filter(starts_at__gte=first, starts_at__lt=last).order_by("starts_at", "id"):
        by_date[timezone.localtime(session.starts_at, zone).date()].sessions.append(session)
    owner = {"assigned_to": associate} if associate is not None else {"location": location}
    due = _alterations().filter(**owner, due_on__gte=monday, due_on__lte=days[-1].date)
    for alteration in due.exclude(status=AlterationStatus.CANCELLED).order_by("due_on", "id"):
        by_date[alteration.due_on].alterations.append(alteration)
    return days


@dataclass
class Jobs:
    day: date
    appointments: list
    sessions: list
    alterations: list


def jobs_today(profile: AssociateProfile, zone: ZoneInfo, now=None) -> Jobs:
    """The associate's appointments and training sessions of today in time order, and the
    alterations assigned to them that are due by today and not collected. Three queries."""
    today = timezone.localtime(now or timezone.now(), zone).date()
    first, last = _day_bounds(today, today, zone)
    appointments = list(
        appointment_list()
        .filter(associate=profile, starts_at__gte=first, starts_at__lt=last)
        .order_by("starts_at", "id")
    )
    sessions = list(
        _sessions()
        .filter(trainer=profile, starts_at__lt=last, ends_at__gt=first)
        .exclude(status=SessionStatus.CANCELLED)
        .order_by("starts_at", "id")
    )
    alterations = list(
        _alterations()
        .filter(assigned_to=profile, due_on__lte=today)
        .exclude(status__in=ALTERATION_DONE)
        .order_by("due_on", "id")
    )
    return Jobs(today, appointments, sessions, alterations)


def appointment_detail():
    return appointment_list().select_related("booked_by")


@dataclass
class Change:
    at: datetime
    who: object
    what: str
    status: str
    starts_at: datetime


def appointment_history(appointment: Appointment) -> list[Change]:
    """What changed, oldest first: asked for or booked, moved, each change of state (with its
    reason), and who did it. Two queries."""
    # Each state is reached at most once (the workflow has no loops), so its reason is found by it.
    reasons = {row.to_state: row.reason for row in transition_history(appointment) if row.reason}
    changes, previous = [], None
    for row in appointment.history.select_related("history_user").order_by("history_date", "history_id"):
        if previous is None:
            what = "Asked for" if row.status == AppointmentStatus.REQUESTED else "Booked"
        elif row.status != previous.status and previous.status == AppointmentStatus.REQUESTED and row.starts_at:
            what = "Booked"
        elif row.status != previous.status:
            what = AppointmentStatus(row.status).label
            if reasons.get(row.status):
                what = f"{what}: {reasons[row.status]}"
        elif row.starts_at != previous.starts_at:
            what = "Moved"
        else:
            what = None  # a change nobody reads here (the reminder sent)
        if what:
            changes.append(Change(row.history_date, row.history_user, what, row.status, row.starts_at))
        previous = row
    return changes


@dataclass
class Offer:
    """A service type that can be booked on an order line."""

    line: object
    service_type: ServiceType

    @property
    def value(self) -> str:
        return f"{self.line.pk}:{self.service_type.pk}"


def order_for_booking(number: str):
    """The order with its lines and products and its customer's addresses, or None (three queries)."""
    order = (
        Order.objects.select_related("customer")
        .prefetch_related("lines__product", "customer__addresses")
        .filter(number=number)
        .first()
    )
    return order


def booking_offers(order) -> list[Offer]:
    """Each line of `order` with each active service type that covers its product (one query)."""
    services = list(ServiceType.objects.filter(is_active=True).order_by("name", "id"))
    return [
        Offer(line, service)
        for line in order.lines.all()
        if line.active_quantity > 0
        for service in services
        if covers(service, line.product)
    ]


@dataclass
class SlotDay:
    date: date
    associates: list  # [(name, associate id, [Slot, ...])]


def slots_by_day(slots: list[Slot], zone: ZoneInfo) -> list[SlotDay]:
    """Free slots grouped by the location's calendar day, then by associate (one query for the names)."""
    names = associate_names(slot.associate_id for slot in slots) if slots else {}
    days: dict[date, dict[int, list[Slot]]] = {}
    for slot in slots:
        day = timezone.localtime(slot.starts_at, zone).date()
        days.setdefault(day, {}).setdefault(slot.associate_id, []).append(slot)
    return [
        SlotDay(day, [(names.get(who, str(who)), who, rows) for who, rows in sorted(by_who.items())])
        for day, by_who in sorted(days.items())
    ]
