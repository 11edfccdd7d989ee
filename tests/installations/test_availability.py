"""Availability maths: working hours as the location's wall clock, travel buffers, existing
appointments and absences, skills, a daylight-saving change, and a fixed number of queries."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import Skill
from installations.models import Absence, Appointment, ServiceType, WorkingHours
from installations.selectors import buffers, free_slots
from tests.factories import AssociateProfileFactory, LocationFactory, ProductFactory, make_paid_order

pytestmark = pytest.mark.django_db

AMS = ZoneInfo("Europe/Amsterdam")
MONDAY = date(2027, 3, 1)  # a Monday in winter (UTC+1)
PAST = datetime(2027, 1, 1, tzinfo=UTC)


@pytest.fixture
def store():
    return LocationFactory(time_zone="Europe/Amsterdam")


@pytest.fixture
def wiring():
    return Skill.objects.create(code="wiring", name="Electrical wiring")


@pytest.fixture
def oven_fitting(wiring):
    service = ServiceType.objects.create(
        code="oven", name="Oven installation", kind="installation", duration_minutes=90, travel_buffer_minutes=30
    )
    service.skills.add(wiring)
    return service


def _fitter(store, wiring, hours=((0, "09:00", "17:00"),)):
    profile = AssociateProfileFactory(home_location=store, user__roles=["associate"])
    profile.skills.add(wiring)
    for weekday, starts, ends in hours:
        WorkingHours.objects.create(
            associate=profile, weekday=weekday, starts=time.fromisoformat(starts), ends=time.fromisoformat(ends)
        )
    return profile


def _local(slot):
    return slot.starts_at.astimezone(AMS).strftime("%H:%M")


def _slots(service, store, day=MONDAY, until=None, **kwargs):
    return free_slots(service_type=service, location=store, date_from=day, date_to=until or day, now=PAST, **kwargs)


def test_a_working_day_offers_every_half_hour_that_fits_the_job_and_its_travel(store, wiring, oven_fitting):
    _fitter(store, wiring)

    starts = [_local(slot) for slot in _slots(oven_fitting, store)]

    # 09:00–17:00 with 30 min travel each side of a 90 min job: first at 09:30, last ending 16:30
    assert starts[0] == "09:30" and starts[-1] == "15:00"
    assert len(starts) == 12
    assert all(slot.ends_at - slot.starts_at == timedelta(minutes=90) for slot in _slots(oven_fitting, store))


def test_days_without_working_hours_offer_nothing(store, wiring, oven_fitting):
    _fitter(store, wiring)

    assert _slots(oven_fitting, store, day=MONDAY + timedelta(days=1)) == []


def test_an_appointment_and_its_buffers_take_their_time_away(store, wiring, oven_fitting):
    fitter = _fitter(store, wiring)
    order = make_paid_order(lines=[(ProductFactory(), 1, "10.00")])
    start = datetime.combine(MONDAY, time(12, 0), tzinfo=AMS)
    Appointment.objects.create(
        order_line=order.lines.get(),
        customer=order.customer,
        service_type=oven_fitting,
        associate=fitter,
        location=store,
        starts_at=start,
        ends_at=start + timedelta(minutes=90),
        blocked_from=start - timedelta(minutes=30),
        blocked_until=start + timedelta(minutes=120),
    )

    starts = [_local(slot) for slot in _slots(oven_fitting, store)]

    # blocked 11:30–14:00; a new job needs 30 min travel on each side of its 90 minutes
    assert "09:30" in starts and "10:00" not in starts
    assert "14:00" not in starts and "14:30" in starts


def test_a_cancelled_appointment_frees_its_time(store, wiring, oven_fitting):
    fitter = _fitter(store, wiring)
    order = make_paid_order(lines=[(ProductFactory(), 1, "10.00")])
    start = datetime.combine(MONDAY, time(12, 0), tzinfo=AMS)
    Appointment.objects.create(
        order_line=order.lines.get(),
        customer=order.customer,
        service_type=oven_fitting,
        associate=fitter,
        location=store,
        starts_at=start,
        ends_at=start + timedelta(minutes=90),
        blocked_from=start,
        blocked_until=start + timedelta(minutes=90),
    )
    Appointment.objects.update(status="cancelled")

    assert len(_slots(oven_fitting, store)) == 12


def test_an_absence_takes_its_time_away(store, wiring, oven_fitting):
    fitter = _fitter(store, wiring)
    Absence.objects.create(
        associate=fitter,
        starts_at=datetime.combine(MONDAY, time(9, 0), tzinfo=AMS),
        ends_at=datetime.combine(MONDAY, time(13, 0), tzinfo=AMS),
        reason="dentist",
    )

    assert _local(_slots(oven_fitting, store)[0]) == "13:30"


def test_only_associates_with_every_skill_at_the_location_are_offered(store, wiring, oven_fitting):
    gas = Skill.objects.create(code="gas", name="Gas")
    oven_fitting.skills.add(gas)
    only_wiring = _fitter(store, wiring)
    both = _fitter(store, wiring)
    both.skills.add(gas)
    _fitter(LocationFactory(), wiring).skills.add(gas)  # elsewhere

    assert {slot.associate_id for slot in _slots(oven_fitting, store)} == {both.pk}
    assert only_wiring.pk not in {slot.associate_id for slot in _slots(oven_fitting, store)}


def test_working_hours_are_the_locations_wall_clock_across_a_daylight_saving_change(store, wiring, oven_fitting):
    """Europe/Amsterdam goes to summer time on Sunday 28 March 2027: 09:30 local is 08:30 UTC the
    Monday before and 07:30 UTC the Monday after."""
    _fitter(store, wiring)
    before, after = date(2027, 3, 22), date(2027, 3, 29)

    first_before = _slots(oven_fitting, store, day=before)[0].starts_at
    first_after = _slots(oven_fitting, store, day=after)[0].starts_at

    assert (first_before.astimezone(AMS).hour, first_after.astimezone(AMS).hour) == (9, 9)
    assert first_before.astimezone(UTC).hour == 8 and first_after.astimezone(UTC).hour == 7


def test_a_span_across_the_change_keeps_its_real_length(store, wiring):
    """A night shift 00:00–06:00 on the Sunday the clocks jump (02:00 → 03:00) lasts five hours."""
    short = ServiceType.objects.create(code="check", name="Check", kind="installation", duration_minutes=60)
    _fitter(store, wiring, hours=((6, "00:00", "06:00"),))

    slots = _slots(short, store, day=date(2027, 3, 28))

    # five real hours (23:00–04:00 UTC): a one-hour job starts every 30 min, the last at 03:00 UTC
    assert len(slots) == 9 and slots[-1].starts_at.astimezone(UTC).hour == 3
    assert all(slot.ends_at - slot.starts_at == timedelta(hours=1) for slot in slots)


def test_slots_start_no_sooner_than_the_booking_lead_from_now(store, wiring, oven_fitting, settings):
    _fitter(store, wiring)
    noon = datetime.combine(MONDAY, time(12, 0), tzinfo=AMS)

    def first(lead):
        settings.APPOINTMENT_BOOKING_LEAD = lead
        slots = free_slots(service_type=oven_fitting, location=store, date_from=MONDAY, date_to=MONDAY, now=noon)
        return _local(slots[0]) if slots else None

    assert first(timedelta(0)) == "12:00"
    assert first(timedelta(hours=2)) == "14:00"
    assert first(timedelta(hours=24)) is None  # the default: nothing left that day


def test_a_weekdays_touching_spans_are_one_working_day(store, wiring, oven_fitting):
    _fitter(store, wiring, hours=((0, "09:00", "13:00"), (0, "13:00", "17:00"), (0, "10:00", "12:00")))

    starts = [_local(slot) for slot in _slots(oven_fitting, store)]

    assert len(starts) == len(set(starts)) == 12  # as 09:00–17:00: no duplicates, jobs cross 13:00
    assert "12:00" in starts


def test_training_an_associate_gives_takes_their_time(store, wiring, oven_fitting):
    from installations.models import TrainingCourse, TrainingSession

    fitter = _fitter(store, wiring)
    course = TrainingCourse.objects.create(code="steam", name="Cooking with steam")
    start = datetime.combine(MONDAY, time(10), tzinfo=AMS)
    TrainingSession.objects.create(
        course=course, location=store, trainer=fitter, starts_at=start, ends_at=start + timedelta(hours=2), capacity=8
    )

    starts = [_local(slot) for slot in _slots(oven_fitting, store)]

    assert "10:30" not in starts and "12:30" in starts


def test_far_away_or_too_long_ranges_offer_nothing_or_are_refused(store, wiring, oven_fitting):
    from core.errors import RuleViolation

    _fitter(store, wiring)

    assert _slots(oven_fitting, store, day=date(9999, 12, 1), until=date(9999, 12, 31)) == []
    with pytest.raises(RuleViolation):
        _slots(oven_fitting, store, until=MONDAY + timedelta(days=40))


def test_availability_runs_a_fixed_number_of_queries(store, wiring, oven_fitting):
    for _ in range(2):
        _fitter(store, wiring, hours=[(day, "09:00", "17:00") for day in range(5)])

    def count(days):
        with CaptureQueriesContext(connection) as ctx:
            _slots(oven_fitting, store, until=MONDAY + timedelta(days=days))
        return len(ctx)

    few = count(0)
    for _ in range(5):
        _fitter(store, wiring, hours=[(day, "09:00", "17:00") for day in range(5)])
    assert count(13) == few


def _held(fitter, service, store, start):
    """A booking as the service writes it: the job, and its travel on each side for a home visit."""
    order = make_paid_order(lines=[(ProductFactory(), 1, "10.00")])
    duration, travel = buffers(service)
    return Appointment.objects.create(
        order_line=order.lines.get(),
        customer=order.customer,
        service_type=service,
        associate=fitter,
        location=store,
        starts_at=start,
        ends_at=start + duration,
        blocked_from=start - travel,
        blocked_until=start + duration + travel,
    )


def test_an_in_store_service_keeps_no_travel_time(store, wiring):
    """The travel buffer is for a home visit's journey: set on an in-store service, it is not applied."""
    fitting = ServiceType.objects.create(
        code="fit", name="Fitting", kind="assembly", place="store", duration_minutes=90, travel_buffer_minutes=30
    )
    fitting.skills.add(wiring)
    _fitter(store, wiring)

    starts = [_local(slot) for slot in _slots(fitting, store)]

    assert buffers(fitting) == (timedelta(minutes=90), timedelta(0))
    assert starts[0] == "09:00" and starts[-1] == "15:30" and len(starts) == 14  # 09:00–17:00, no journeys


def test_two_home_visits_in_a_row_keep_a_journey_back_and_a_journey_out_between_them(store, wiring, oven_fitting):
    """Pins the rule in `selectors`' docstring: each home visit blocks its own journey there and
    back, so two visits are two buffers apart (not one, though the fitter may drive straight on),
    and an in-store job after a visit waits for the journey back only."""
    fitter = _fitter(store, wiring)
    _held(fitter, oven_fitting, store, datetime.combine(MONDAY, time(10), tzinfo=AMS))  # 10:00–11:30
    in_store = ServiceType.objects.create(
        code="fit", name="Fitting", kind="assembly", place="store", duration_minutes=60, travel_buffer_minutes=30
    )

    home_visits = [_local(slot) for slot in _slots(oven_fitting, store)]
    in_store_jobs = [_local(slot) for slot in _slots(in_store, store)]

    assert "12:00" not in home_visits and "12:30" in home_visits  # 11:30 + 30 back + 30 out
    assert "11:30" not in in_store_jobs and "12:00" in in_store_jobs  # 11:30 + 30 back
