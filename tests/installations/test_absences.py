"""Absences and changed working hours never silently strand a booking: the bookings they clash
with (in the absence, with their travel, or outside the new week in the location's wall clock,
across a daylight-saving change too) are named, in the admin as a warning, and left booked."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.errors import RuleViolation
from installations.choices import AppointmentStatus
from installations.models import Absence, Appointment, WorkingHours
from installations.selectors import appointments_clashing, free_slots
from installations.services import (
    absence_record,
    appointment_book,
    appointment_cancel,
    working_hours_remove,
    working_hours_set,
)
from tests.factories import make_paid_order

pytestmark = pytest.mark.django_db

AMS = ZoneInfo("Europe/Amsterdam")


def _next_monday() -> date:
    today = timezone.localdate()
    return today + timedelta(days=7 - today.weekday() + 7)


MONDAY = _next_monday()


def _at(hhmm: str, day: date = MONDAY) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=AMS)


def _book(setup, hhmm="10:00", day=MONDAY):
    """A home visit: 90 minutes with 30 minutes' travel each side (10:00 blocks 09:30–12:00)."""
    return appointment_book(
        actor=setup["fitter"].user,
        order_line=setup["line"],
        service_type=setup["service"],
        associate=setup["fitter"],
        starts_at=_at(hhmm, day),
        address=setup["address"],
    )


def _away(setup, starts, ends, reason="Dentist"):
    return absence_record(actor=None, associate=setup["fitter"], starts_at=starts, ends_at=ends, reason=reason)


def _numbers(appointments) -> list[str]:
    return [appointment.number for appointment in appointments]


# --- absences ---------------------------------------------------------------------------------


def test_an_absence_covering_a_booking_names_it_and_leaves_it_booked(setup):
    booked = _book(setup)

    absence = _away(setup, _at("00:00"), _at("00:00", MONDAY + timedelta(days=1)), reason="Ill")

    assert _numbers(appointments_clashing(setup["fitter"], (absence.starts_at, absence.ends_at))) == [booked.number]
    assert Appointment.objects.get(pk=booked.pk).status == AppointmentStatus.SCHEDULED
    assert all(slot.starts_at.date() != MONDAY for slot in _free(setup))


def _free(setup):
    return free_slots(service_type=setup["service"], location=setup["store"], date_from=MONDAY, date_to=MONDAY)


@pytest.mark.parametrize(
    ("starts", "ends", "clashes"),
    [
        ("11:00", "13:00", True),  # the end of the job
        ("08:00", "10:30", True),  # the start of the job
        ("10:30", "11:00", True),  # inside the job
        ("11:45", "13:00", True),  # only the journey back (the job ends 11:30, travel until 12:00)
        ("12:00", "13:00", False),  # from the end of the journey back
        ("08:00", "09:30", False),  # until the journey out
    ],
)
def test_an_absence_overlapping_a_booking_or_its_travel_names_it(setup, starts, ends, clashes):
    booked = _book(setup)

    clashing = appointments_clashing(setup["fitter"], (_at(starts), _at(ends)))

    assert _numbers(clashing) == ([booked.number] if clashes else [])


def test_no_clash_when_the_absence_is_clear_of_bookings(setup):
    kept = _book(setup)
    cancelled = _book(setup, day=MONDAY + timedelta(days=1))
    appointment_cancel(actor=None, appointment=cancelled, reason="Kitchen not ready")

    tuesday = (_at("00:00", MONDAY + timedelta(days=1)), _at("23:00", MONDAY + timedelta(days=1)))

    assert appointments_clashing(setup["fitter"], tuesday) == []
    assert appointments_clashing(setup["fitter"], tuesday, hours=True) == []
    assert appointments_clashing(setup["fitter"]) == []
    assert appointments_clashing(setup["fitter"], (_at("09:00"), _at("17:00")), now=_at("13:00")) == []  # over
    assert Appointment.objects.get(pk=kept.pk).status == AppointmentStatus.SCHEDULED


def test_an_absence_needs_aware_times_that_end_after_they_start(setup):
    naive = datetime.combine(MONDAY, time(9))

    with pytest.raises(RuleViolation, match="UTC offset"):
        _away(setup, naive, naive + timedelta(hours=2))
    with pytest.raises(RuleViolation, match="ends after"):
        _away(setup, _at("12:00"), _at("12:00"))
    with pytest.raises(RuleViolation):
        _away(setup, _at("12:00"), _at("13:00"), reason="x" * 121)
    assert not Absence.objects.exists()


def test_an_absence_is_changed_through_the_service(setup):
    absence = _away(setup, _at("09:00"), _at("10:00"))

    changed = absence_record(
        actor=None, absence=absence, associate=setup["fitter"], starts_at=_at("14:00"), ends_at=_at("15:00"), reason=""
    )

    assert Absence.objects.get().pk == changed.pk and changed.starts_at == _at("14:00").astimezone(UTC)


# --- working hours ----------------------------------------------------------------------------


def _monday_hours(setup):
    return WorkingHours.objects.get(associate=setup["fitter"], weekday=0)


def test_a_booking_outside_shortened_hours_is_named(setup):
    morning, afternoon = _book(setup, "09:30"), _book(setup, "14:00")  # blocked 09:00–11:30 and 13:30–16:00

    working_hours_set(
        actor=None,
        working_hours=_monday_hours(setup),
        associate=setup["fitter"],
        weekday=0,
        starts=time(9),
        ends=time(13),
    )

    assert _numbers(appointments_clashing(setup["fitter"], hours=True)) == [afternoon.number]
    assert {a.status for a in Appointment.objects.all()} == {AppointmentStatus.SCHEDULED}
    assert morning.number not in _numbers(appointments_clashing(setup["fitter"], hours=True))


def test_a_booking_in_a_weekday_taken_away_is_named_and_hours_joined_again_clear_it(setup):
    booked = _book(setup, "14:00")
    working_hours_remove(actor=None, working_hours=_monday_hours(setup))
    assert _numbers(appointments_clashing(setup["fitter"], hours=True)) == [booked.number]

    for starts, ends in ((time(8), time(14)), (time(14), time(18))):  # touching spans are one day
        working_hours_set(actor=None, associate=setup["fitter"], weekday=0, starts=starts, ends=ends)

    assert appointments_clashing(setup["fitter"], hours=True) == []


def test_working_hours_are_checked(setup):
    with pytest.raises(RuleViolation):
        working_hours_set(actor=None, associate=setup["fitter"], weekday=7, starts=time(9), ends=time(17))
    with pytest.raises(RuleViolation):
        working_hours_set(actor=None, associate=setup["fitter"], weekday=0, starts=time(17), ends=time(9))


def _appointment_at(setup, local_start: datetime) -> Appointment:
    """A booking written as the service would have (these dates may be past the booking horizon)."""
    start = local_start.astimezone(UTC)
    order = make_paid_order(lines=[(setup["oven"], 1, "899.00")])
    return Appointment.objects.create(
        order_line=order.lines.get(),
        customer=order.customer,
        service_type=setup["service"],
        associate=setup["fitter"],
        location=setup["store"],
        starts_at=start,
        ends_at=start + timedelta(minutes=90),
        blocked_from=start - timedelta(minutes=30),
        blocked_until=start + timedelta(minutes=120),
    )


def test_hours_are_the_locations_wall_clock_in_the_week_the_clocks_change(setup):
    """Amsterdam goes to summer time on Sunday 28 March 2027. The Monday after, 09:00 local is
    07:00 UTC (08:00 the Monday before): a 09:30 visit there, with its travel from 09:00, and a
    15:00 visit the Monday before, with its travel until 17:00, both fit a 09:00–17:00 week."""
    before = _appointment_at(setup, datetime(2027, 3, 22, 15, 0, tzinfo=AMS))
    after = _appointment_at(setup, datetime(2027, 3, 29, 9, 30, tzinfo=AMS))
    now = datetime(2027, 1, 1, tzinfo=UTC)

    fine = appointments_clashing(setup["fitter"], hours=True, now=now)
    working_hours_set(
        actor=None,
        working_hours=_monday_hours(setup),
        associate=setup["fitter"],
        weekday=0,
        starts=time(9, 30),
        ends=time(17),
    )
    later_start = appointments_clashing(setup["fitter"], hours=True, now=now)
    working_hours_set(
        actor=None,
        working_hours=_monday_hours(setup),
        associate=setup["fitter"],
        weekday=0,
        starts=time(9),
        ends=time(16, 30),
    )
    earlier_end = appointments_clashing(setup["fitter"], hours=True, now=now)

    assert fine == []
    assert _numbers(later_start) == [after.number]
    assert _numbers(earlier_end) == [before.number]


def test_the_clash_check_runs_a_fixed_number_of_queries(setup):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            found = appointments_clashing(setup["fitter"], week, hours=True)
            [(a.customer.full_name, a.location.time_zone, a.service_type.name) for a in found]
        return len(found), len(ctx)

    week = (_at("00:00"), _at("00:00", MONDAY + timedelta(days=7)))
    _book(setup, "09:30")
    one = count()
    for day in range(1, 4):
        _book(setup, "09:30", day=MONDAY + timedelta(days=day))

    assert one[0] == 1 and count() == (4, one[1])


# --- the admin --------------------------------------------------------------------------------


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def _utc(value: datetime) -> tuple[str, str]:
    """The admin's date and time fields, in the site's zone (UTC)."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d"), value.strftime("%H:%M:%S")


def _absence_form(setup, starts, ends):
    (start_day, start_time), (end_day, end_time) = _utc(starts), _utc(ends)
    return {
        "associate": setup["fitter"].pk,
        "starts_at_0": start_day,
        "starts_at_1": start_time,
        "ends_at_0": end_day,
        "ends_at_1": end_time,
        "reason": "Ill",
    }


def test_an_absence_saved_in_the_admin_warns_of_the_bookings_in_it(client, admin_user, setup):
    booked = _book(setup)
    customer = setup["line"].order.customer
    client.force_login(admin_user)

    response = client.post(
        "/admin/installations/absence/add/", _absence_form(setup, _at("08:00"), _at("18:00")), follow=True
    )

    assert response.status_code == 200
    warnings = [text for text in _messages(response) if "Reschedule" in text]
    assert len(warnings) == 1, _messages(response)
    assert booked.number in warnings[0] and customer.full_name in warnings[0]
    assert "10:00–11:30 (Europe/Amsterdam)" in warnings[0]
    assert "reassign" in warnings[0]
    assert Absence.objects.count() == 1
    assert Appointment.objects.get(pk=booked.pk).status == AppointmentStatus.SCHEDULED


def test_an_absence_clear_of_bookings_saves_without_a_warning(client, admin_user, setup):
    _book(setup)
    client.force_login(admin_user)

    response = client.post(
        "/admin/installations/absence/add/", _absence_form(setup, _at("13:00"), _at("17:00")), follow=True
    )

    assert Absence.objects.count() == 1
    assert not [text for text in _messages(response) if "Reschedule" in text]


def test_working_hours_changed_or_removed_in_the_admin_warn_of_stranded_bookings(client, admin_user, setup):
    booked = _book(setup, "14:00")
    hours = _monday_hours(setup)
    client.force_login(admin_user)
    url = f"/admin/installations/workinghours/{hours.pk}"

    kept = client.post(
        f"{url}/change/",
        {"associate": setup["fitter"].pk, "weekday": 0, "starts": "08:00", "ends": "17:00"},
        follow=True,
    )
    shortened = client.post(
        f"{url}/change/",
        {"associate": setup["fitter"].pk, "weekday": 0, "starts": "09:00", "ends": "13:00"},
        follow=True,
    )
    WorkingHours.objects.filter(pk=hours.pk).update(ends=time(17))
    removed = client.post(f"{url}/delete/", {"post": "yes"}, follow=True)

    assert not [text for text in _messages(kept) if "Reschedule" in text]
    for response in (shortened, removed):
        warnings = [text for text in _messages(response) if "Reschedule" in text]
        assert len(warnings) == 1 and booked.number in warnings[0] and "14:00–15:30" in warnings[0]
    assert not WorkingHours.objects.filter(pk=hours.pk).exists()
    assert Appointment.objects.get(pk=booked.pk).status == AppointmentStatus.SCHEDULED
