"""Booking an installation: only free slots are taken, never two for one associate (on PostgreSQL
under a real race too), moves and cancellations with notice, the work done and signed off, and
the timeline and messages that go with each step."""

import threading
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone

from core.choices import TouchpointKind
from core.errors import Conflict, RuleViolation, TransitionNotAllowed
from core.models import Notification, Touchpoint
from installations.choices import AppointmentStatus
from installations.models import Appointment, ServiceType, WorkingHours
from installations.services import (
    appointment_book,
    appointment_cancel,
    appointment_complete,
    appointment_reschedule,
    appointment_start,
)
from tests.factories import (
    AssociateProfileFactory,
    ProductFactory,
    make_paid_order,
)

AMS = ZoneInfo("Europe/Amsterdam")


def _next_monday() -> date:
    today = timezone.localdate()
    return today + timedelta(days=7 - today.weekday() + 7)  # a Monday at least a week ahead


def _at(day: date, hhmm: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=AMS)


def _book(setup, at, **kwargs):
    return appointment_book(
        actor=kwargs.pop("actor", setup["fitter"].user),
        order_line=kwargs.pop("line", setup["line"]),
        service_type=setup["service"],
        associate=setup["fitter"],
        starts_at=at,
        address=setup["address"],
        **kwargs,
    )


@pytest.mark.django_db
def test_a_free_slot_is_booked_with_its_travel_time_and_the_customer_is_told(setup):
    start = _at(_next_monday(), "10:00")

    appointment = _book(setup, start)

    assert appointment.status == AppointmentStatus.SCHEDULED
    assert (appointment.ends_at - appointment.starts_at) == timedelta(minutes=90)
    assert appointment.blocked_from == start - timedelta(minutes=30)
    assert appointment.city == setup["address"].city
    message = Notification.objects.get(event="appointment_booked")
    assert "Steam oven" in message.body and "10:00" in message.body
    assert Touchpoint.objects.filter(kind=TouchpointKind.INSTALLATION, subject_id=appointment.pk).exists()


@pytest.mark.django_db
def test_an_overlapping_booking_is_refused_with_the_next_free_slots(setup):
    day = _next_monday()
    _book(setup, _at(day, "10:00"))

    with pytest.raises(Conflict) as excinfo:
        _book(setup, _at(day, "11:00"))

    assert excinfo.value.code == "slot_taken"
    offered = [datetime.fromisoformat(s["starts_at"]).astimezone(AMS) for s in excinfo.value.extra["next_slots"]]
    assert offered[0] == _at(day, "12:30")  # 10:00 job + 90 min + 30 min travel + 30 min travel
    assert Appointment.objects.count() == 1


@pytest.mark.django_db
def test_a_time_off_the_grid_or_outside_working_hours_is_not_a_slot(setup):
    day = _next_monday()

    with pytest.raises(Conflict):
        _book(setup, _at(day, "10:10"))
    with pytest.raises(Conflict):
        _book(setup, _at(day, "16:00"))  # would end after 17:00 with its travel
    with pytest.raises(Conflict):
        _book(setup, _at(day + timedelta(days=5), "10:00"))  # Saturday


@pytest.mark.django_db
def test_the_service_must_fit_the_product_and_the_associate_the_skills(setup):
    day = _next_monday()
    sofa = make_paid_order(lines=[(ProductFactory(name="Sofa"), 1, "500.00")]).lines.get()
    with pytest.raises(RuleViolation, match="not a service for Sofa"):
        _book(setup, _at(day, "10:00"), line=sofa)
    setup["fitter"].skills.clear()
    with pytest.raises(RuleViolation, match="every skill"):
        _book(setup, _at(day, "10:00"))


@pytest.mark.django_db
def test_a_home_visit_needs_the_address(setup):
    with pytest.raises(RuleViolation, match="needs the address"):
        appointment_book(
            actor=None,
            order_line=setup["line"],
            service_type=setup["service"],
            associate=setup["fitter"],
            starts_at=_at(_next_monday(), "10:00"),
        )


@pytest.mark.django_db
def test_a_move_takes_another_free_slot_and_frees_the_old_one(setup):
    day = _next_monday()
    appointment = _book(setup, _at(day, "10:00"))

    moved = appointment_reschedule(actor=setup["fitter"].user, appointment=appointment, starts_at=_at(day, "10:30"))
    other = _book(setup, _at(day, "14:00"))

    assert moved.starts_at == _at(day, "10:30").astimezone(UTC)
    assert other.pk != moved.pk
    assert "moved from" in Notification.objects.get(event="appointment_changed").body
    with pytest.raises(Conflict):
        appointment_reschedule(actor=None, appointment=moved, starts_at=_at(day, "14:30"))


@pytest.mark.django_db
def test_moves_and_cancellations_need_notice(setup, settings):
    appointment = _book(setup, _at(_next_monday(), "10:00"))
    settings.APPOINTMENT_CHANGE_NOTICE = timedelta(days=30)

    with pytest.raises(Conflict, match="call the store"):
        appointment_cancel(actor=None, appointment=appointment, reason="Away")
    with pytest.raises(Conflict, match="call the store"):
        appointment_reschedule(actor=None, appointment=appointment, starts_at=_at(_next_monday(), "14:00"))


@pytest.mark.django_db
def test_a_cancellation_needs_a_reason_frees_the_time_and_tells_the_customer(setup):
    day = _next_monday()
    appointment = _book(setup, _at(day, "10:00"))

    with pytest.raises(RuleViolation):
        appointment_cancel(actor=None, appointment=appointment, reason=" ")
    appointment_cancel(actor=None, appointment=appointment, reason="Oven not delivered yet")

    assert "Oven not delivered yet" in Notification.objects.get(event="appointment_cancelled").body
    assert _book(setup, _at(day, "10:00")).status == AppointmentStatus.SCHEDULED


@pytest.mark.django_db
def test_the_work_is_started_completed_and_signed_off_in_order(setup):
    appointment = _book(setup, _at(_next_monday(), "10:00"))

    with pytest.raises(TransitionNotAllowed):
        appointment_complete(actor=None, appointment=appointment, checklist=[], notes="", signed_off_by="Emma")
    appointment_start(actor=setup["fitter"].user, appointment=appointment)
    with pytest.raises(RuleViolation, match="signs the work off"):
        appointment_complete(actor=None, appointment=appointment, checklist=[], notes="", signed_off_by="")
    done = appointment_complete(
        actor=setup["fitter"].user,
        appointment=appointment,
        checklist=[{"item": "Oven level and fixed", "done": True}],
        notes="Old oven taken away",
        signed_off_by="Emma de Vries",
    )

    assert done.status == AppointmentStatus.COMPLETED and done.signed_off_by == "Emma de Vries"
    assert done.completed_at is not None


def _race(work, count):
    barrier = threading.Barrier(count)
    booked, refused = [], []
    lock = threading.Lock()

    def run(i):
        try:
            barrier.wait()
            result = work(i)
            with lock:
                booked.append(result)
        except (Conflict, RuleViolation) as exc:
            with lock:
                refused.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return booked, refused


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_twenty_concurrent_bookings_of_one_slot_make_one_appointment_and_nineteen_409s(setup):
    if connection.vendor != "postgresql":
        pytest.skip("real concurrent connections need PostgreSQL; SQLite serialises every write")
    start = _at(_next_monday(), "10:00")

    booked, refused = _race(lambda i: _book(setup, start), 20)

    assert len(booked) == 1 and len(refused) == 19
    assert {exc.code for exc in refused} == {"slot_taken"}
    assert all(exc.extra["next_slots"] for exc in refused)
    assert Appointment.objects.filter(status=AppointmentStatus.SCHEDULED).count() == 1


@pytest.mark.django_db
def test_every_move_is_told_even_back_to_a_time_told_before(setup):
    day = _next_monday()
    appointment = _book(setup, _at(day, "10:00"))

    for hhmm in ("14:00", "10:00", "14:00"):
        appointment = appointment_reschedule(actor=None, appointment=appointment, starts_at=_at(day, hhmm))

    assert Notification.objects.filter(event="appointment_changed").count() == 3


@pytest.mark.django_db
def test_a_moved_appointment_is_reminded_again_for_its_new_time(setup):
    day = _next_monday()
    appointment = _book(setup, _at(day, "10:00"))
    Appointment.objects.filter(pk=appointment.pk).update(reminded_at=timezone.now())

    moved = appointment_reschedule(actor=None, appointment=appointment, starts_at=_at(day, "14:00"))

    assert Appointment.objects.get(pk=moved.pk).reminded_at is None


@pytest.mark.django_db
def test_one_appointment_per_unit_bought(setup):
    day = _next_monday()
    line = make_paid_order(lines=[(setup["line"].product, 1, "899.00")]).lines.get()
    _book(setup, _at(day, "10:00"), line=line)

    with pytest.raises(RuleViolation, match="booked already"):
        _book(setup, _at(day + timedelta(days=1), "10:00"), line=line)


@pytest.mark.django_db
def test_a_time_without_its_offset_is_refused(setup):
    naive = datetime.combine(_next_monday(), time(10))

    with pytest.raises(RuleViolation, match="UTC offset"):
        _book(setup, naive)


@pytest.mark.django_db
def test_staff_cancel_within_the_notice_customers_may_not(setup, settings, customer):
    appointment = _book(setup, _at(_next_monday(), "10:00"))
    settings.APPOINTMENT_CHANGE_NOTICE = timedelta(days=30)

    with pytest.raises(Conflict, match="call the store"):
        appointment_cancel(actor=customer.user, appointment=appointment, reason="Away")
    cancelled = appointment_cancel(actor=setup["fitter"].user, appointment=appointment, reason="Fitter ill")

    assert cancelled.status == AppointmentStatus.CANCELLED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_moves_and_bookings_of_one_associate_racing_never_deadlock(setup):
    if connection.vendor != "postgresql":
        pytest.skip("real concurrent connections need PostgreSQL; SQLite serialises every write")
    day = _next_monday()
    moving = [_book(setup, _at(day + timedelta(days=d), "10:00")) for d in range(3)]
    extra = make_paid_order(lines=[(setup["line"].product, 12, "899.00")]).lines.get()

    def work(i):
        if i < 3:
            return appointment_reschedule(
                actor=None, appointment=moving[i], starts_at=_at(day + timedelta(days=i), "14:00")
            )
        return _book(setup, _at(day + timedelta(days=i % 3), "12:00" if i % 2 else "14:00"), line=extra)

    booked, refused = _race(work, 9)

    assert len(booked) + len(refused) == 9  # every caller got an answer: no deadlock, no 500
    holding = Appointment.objects.filter(status=AppointmentStatus.SCHEDULED)
    for appointment in holding:
        others = holding.exclude(pk=appointment.pk).filter(
            blocked_from__lt=appointment.blocked_until, blocked_until__gt=appointment.blocked_from
        )
        assert not others.exists()


@pytest.mark.django_db
def test_a_refused_move_offers_only_its_own_associates_next_slots(setup):
    """A move keeps the associate, so the slots offered with a refusal are theirs (counting the
    appointment's own time as free); a refused booking may offer anyone at the store."""
    colleague = AssociateProfileFactory(home_location=setup["store"], user__roles=["associate"])
    colleague.skills.add(*setup["fitter"].skills.all())
    for weekday in range(5):
        WorkingHours.objects.create(associate=colleague, weekday=weekday, starts=time(9), ends=time(17))
    day = _next_monday()
    _book(setup, _at(day, "10:00"))
    later = _book(setup, _at(day, "14:00"))

    with pytest.raises(Conflict) as moving:
        appointment_reschedule(actor=None, appointment=later, starts_at=_at(day, "11:00"))
    with pytest.raises(Conflict) as booking:
        _book(setup, _at(day, "11:00"))

    offered = moving.value.extra["next_slots"]
    starts = [datetime.fromisoformat(slot["starts_at"]).astimezone(AMS) for slot in offered]
    assert {slot["associate"] for slot in offered} == {setup["fitter"].pk}
    assert starts[0] == _at(day, "12:30")  # its own 14:00 counts as free: 12:30 ends before it is taken
    assert _at(day, "14:00") not in starts  # where it is already
    assert booking.value.extra["next_slots"][0]["associate"] == colleague.pk


@pytest.mark.django_db
def test_an_in_store_appointment_blocks_no_travel_time(setup):
    fitting = ServiceType.objects.create(
        code="fit-store",
        name="Fitting in store",
        kind="assembly",
        place="store",
        category=setup["oven"].category,
        duration_minutes=60,
        travel_buffer_minutes=30,
    )
    fitting.skills.add(*setup["fitter"].skills.all())
    start = _at(_next_monday(), "09:00")  # the store opens at 09:00: no journey to make first

    appointment = appointment_book(
        actor=None, order_line=setup["line"], service_type=fitting, associate=setup["fitter"], starts_at=start
    )

    assert (appointment.blocked_from, appointment.blocked_until) == (appointment.starts_at, appointment.ends_at)


@pytest.mark.django_db
def test_a_move_with_a_reason_tells_the_customer_why_and_keeps_it_on_the_timeline(setup):
    day = _next_monday() + timedelta(days=7)
    appointment = _book(setup, _at(day, "09:30"))

    appointment_reschedule(
        actor=setup["fitter"].user, appointment=appointment, starts_at=_at(day, "13:00"), reason="Van in the garage"
    )

    message = Notification.objects.filter(event="appointment_changed").get()
    assert "Why: Van in the garage" in message.body
    moved = Touchpoint.objects.filter(kind=TouchpointKind.INSTALLATION, summary__contains="moved from").get()
    assert moved.summary.endswith(": Van in the garage")
