"""A planned training session moved, re-staffed, resized or called off: the people enrolled or
waiting are told (once per change), more seats seat the waiting list in order, fewer than are
taken are refused, and a cancelled session reopens the "I need training" requests it answered."""

import threading
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone

from core.choices import TouchpointKind
from core.errors import Conflict, RuleViolation
from core.models import Notification, Touchpoint
from installations.choices import EnrolmentStatus, SessionStatus, TrainingRequestStatus
from installations.models import Absence, Enrolment, TrainingCourse, TrainingRequest, TrainingSession
from installations.services_training import (
    training_enrol,
    training_request_close,
    training_request_create,
    training_session_cancel,
    training_session_change,
    training_session_plan_check,
)
from tests.factories import AssociateProfileFactory, CustomerFactory, ProductFactory, make_paid_order
from tests.installations.test_training import _session
from tests.installations.test_training_pages import _clock_change

pytestmark = pytest.mark.django_db


def _fill(session, people):
    return [training_enrol(actor=None, session=session, customer=CustomerFactory()) for _ in range(people)]


def _statuses(enrolments):
    return [Enrolment.objects.get(pk=e.pk).status for e in enrolments]


def _events(event):
    return sorted(Notification.objects.filter(event=event).values_list("customer_id", flat=True))


def test_a_moved_session_tells_everyone_enrolled_or_waiting_once_with_the_reason():
    session = _session(capacity=1)
    seated, waiting = _fill(session, 2)
    new_start = session.starts_at + timedelta(days=1)

    for _ in range(2):  # a retried save tells nobody twice
        training_session_change(
            actor=None,
            session=session,
            changes={"starts_at": new_start, "ends_at": new_start + timedelta(hours=2)},
            reason="the trainer is away that day",
        )

    session.refresh_from_db()
    assert session.starts_at == new_start
    assert _events("training_moved") == sorted([seated.customer_id, waiting.customer_id])
    moved = Notification.objects.filter(event="training_moved").first()
    assert "the trainer is away that day" in moved.body
    assert (
        Touchpoint.objects.filter(kind=TouchpointKind.TRAINING, summary__startswith="Moved: Espresso at home").count()
        == 2
    )


def test_a_second_move_is_told_again():
    session = _session()
    (seated,) = _fill(session, 1)
    for days in (1, 2):
        start = session.starts_at + timedelta(days=days)
        training_session_change(
            actor=None, session=session, changes={"starts_at": start, "ends_at": start + timedelta(hours=1)}
        )

    assert _events("training_moved") == [seated.customer_id, seated.customer_id]


def test_a_new_trainer_or_more_seats_is_not_a_move_and_more_seats_seat_the_waiting_list_in_order():
    session = _session(capacity=1)
    seated, first, second, third = _fill(session, 4)

    training_session_change(
        actor=None,
        session=session,
        changes={"capacity": 3, "trainer": AssociateProfileFactory(user__roles=["associate"])},
    )

    assert _statuses([seated, first, second, third]) == ["enrolled", "enrolled", "enrolled", "waitlisted"]
    assert _events("training_promoted") == sorted([first.customer_id, second.customer_id])
    assert not Notification.objects.filter(event="training_moved").exists()


def test_fewer_seats_than_are_taken_are_refused_and_nothing_changes():
    session = _session(capacity=3)
    _fill(session, 2)

    with pytest.raises(RuleViolation) as refused:
        training_session_change(actor=None, session=session, changes={"capacity": 1})

    assert refused.value.code == "capacity_below_seats" and refused.value.extra["seats_taken"] == 2
    assert TrainingSession.objects.get(pk=session.pk).capacity == 3
    training_session_change(actor=None, session=session, changes={"capacity": 2})  # down to the seats taken is fine
    assert TrainingSession.objects.get(pk=session.pk).capacity == 2


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"starts_at": timezone.now() - timedelta(hours=1)}, "starts_in_past"),
        ({"ends_at": timezone.now()}, "ends_before_start"),
        ({"status": SessionStatus.HELD}, "not_changeable"),
    ],
)
def test_a_change_must_leave_a_session_that_can_take_place(changes, code):
    session = _session()

    with pytest.raises(RuleViolation) as refused:
        training_session_change(actor=None, session=session, changes=changes)

    assert refused.value.code == code
    fresh = TrainingSession.objects.get(pk=session.pk)
    assert (fresh.starts_at, fresh.ends_at, fresh.status) == (session.starts_at, session.ends_at, session.status)


def test_the_course_changes_only_while_nobody_has_signed_up():
    session = _session()
    other = TrainingCourse.objects.create(code="cold-brew", name="Cold brew")
    training_session_change(actor=None, session=session, changes={"course": other})
    assert TrainingSession.objects.get(pk=session.pk).course == other

    _fill(session, 1)
    training_session_change(actor=None, session=session, changes={"course": other})  # the same course: no change
    with pytest.raises(RuleViolation) as refused:
        training_session_change(
            actor=None, session=session, changes={"course": TrainingCourse.objects.create(code="x", name="X")}
        )
    assert refused.value.code == "course_has_enrolments"
    assert TrainingSession.objects.get(pk=session.pk).course == other


def test_a_session_that_started_is_neither_changed_nor_cancelled():
    session = _session()
    TrainingSession.objects.filter(pk=session.pk).update(starts_at=timezone.now() - timedelta(minutes=5))

    with pytest.raises(Conflict):
        training_session_change(actor=None, session=session, changes={"capacity": 5})
    with pytest.raises(Conflict):
        training_session_cancel(actor=None, session=session, reason="too late")


def test_cancelling_a_session_cancels_every_seat_and_place_in_line_and_tells_each_why():
    session = _session(capacity=1)
    seated, waiting = _fill(session, 2)

    training_session_cancel(actor=None, session=session, reason="The trainer is ill")

    assert TrainingSession.objects.get(pk=session.pk).status == SessionStatus.CANCELLED
    assert _statuses([seated, waiting]) == [EnrolmentStatus.CANCELLED, EnrolmentStatus.CANCELLED]
    assert Enrolment.objects.get(pk=seated.pk).history.first().status == EnrolmentStatus.CANCELLED
    assert _events("training_session_cancelled") == sorted([seated.customer_id, waiting.customer_id])
    assert not Notification.objects.filter(event="training_promoted").exists()  # nobody moves up into nothing
    assert "The trainer is ill" in Notification.objects.filter(event="training_session_cancelled").first().body
    with pytest.raises(Conflict):
        training_session_cancel(actor=None, session=session, reason="again")


def test_a_cancellation_needs_a_reason():
    session = _session()
    with pytest.raises(RuleViolation) as refused:
        training_session_cancel(actor=None, session=session, reason="  ")
    assert refused.value.code == "reason_required"
    assert TrainingSession.objects.get(pk=session.pk).status == SessionStatus.SCHEDULED


def test_a_request_arranged_with_a_cancelled_session_is_open_again():
    session = _session()
    line = make_paid_order(lines=[(ProductFactory(trainable=True), 1, "499.00")]).lines.get()
    request = training_request_create(actor=None, order_line=line)
    enrolment = training_enrol(actor=None, session=session, customer=line.order.customer, order_line=line)
    training_request_close(actor=None, request=request, outcome="Booked on Saturday", enrolment=enrolment)

    training_session_cancel(actor=None, session=session, reason="Not enough sign-ups")

    request = TrainingRequest.objects.get(pk=request.pk)
    assert request.status == TrainingRequestStatus.OPEN and request.enrolment is None
    assert "Booked on Saturday" in request.outcome


def test_moving_back_and_forth_or_changing_only_the_end_is_told_every_time():
    session = _session()
    (seated,) = _fill(session, 1)
    first, second = session.starts_at, session.starts_at + timedelta(days=1)

    for start in (second, first, second):  # B, back to A, B again: each is news
        training_session_change(
            actor=None, session=session, changes={"starts_at": start, "ends_at": start + timedelta(hours=2)}
        )
    training_session_change(actor=None, session=session, changes={"ends_at": second + timedelta(hours=3)})

    told = Notification.objects.filter(event="training_moved", customer=seated.customer).order_by("id")
    assert told.count() == 4
    assert f"{timezone.localtime(second + timedelta(hours=3), ZoneInfo(session.location.time_zone)):%H:%M}" in (
        told.last().body
    )


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"starts_at": timezone.now() + timedelta(days=800)}, "beyond_horizon"),
        ({"ends_at": timezone.now() + timedelta(days=3, hours=20)}, "session_too_long"),
    ],
)
def test_a_session_stays_within_the_horizon_and_a_day(changes, code):
    session = _session()
    if "starts_at" in changes:
        changes["ends_at"] = changes["starts_at"] + timedelta(hours=2)

    with pytest.raises(RuleViolation) as refused:
        training_session_change(actor=None, session=session, changes=changes)

    assert refused.value.code == code


def test_a_trainer_must_be_free_and_still_working_here():
    session = _session()
    busy = AssociateProfileFactory(user__roles=["associate"])
    Absence.objects.create(
        associate=busy, starts_at=session.starts_at - timedelta(hours=1), ends_at=session.ends_at, reason="Leave"
    )
    teaching = AssociateProfileFactory(user__roles=["associate"])
    other = _session(capacity=3, starts_in=timedelta(days=3, minutes=30))
    training_session_change(actor=None, session=other, changes={"trainer": teaching})
    gone = AssociateProfileFactory(user__roles=["associate"], user__is_active=False)

    for trainer, code in ((busy, "trainer_busy"), (teaching, "trainer_busy"), (gone, "trainer_inactive")):
        with pytest.raises(RuleViolation) as refused:
            training_session_change(actor=None, session=session, changes={"trainer": trainer})
        assert refused.value.code == code, trainer
    assert TrainingSession.objects.get(pk=session.pk).trainer is None
    free = AssociateProfileFactory(user__roles=["associate"])
    training_session_change(actor=None, session=session, changes={"trainer": free})
    assert TrainingSession.objects.get(pk=session.pk).trainer == free


def test_a_request_the_customer_asked_again_meanwhile_is_not_reopened_twice():
    session = _session()
    line = make_paid_order(lines=[(ProductFactory(trainable=True), 1, "499.00")]).lines.get()
    first = training_request_create(actor=None, order_line=line)
    enrolment = training_enrol(actor=None, session=session, customer=line.order.customer, order_line=line)
    training_request_close(actor=None, request=first, outcome="Booked", enrolment=enrolment)
    again = training_request_create(actor=None, order_line=line, note="Another question")

    training_session_cancel(actor=None, session=session, reason="Not enough sign-ups")

    assert TrainingRequest.objects.get(pk=first.pk).status == TrainingRequestStatus.ARRANGED
    assert TrainingRequest.objects.get(pk=again.pk).status == TrainingRequestStatus.OPEN


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_seats_taken_away_while_people_enrol_never_leave_more_seated_than_seats():
    if connection.vendor != "postgresql":
        pytest.skip("real concurrent connections need PostgreSQL; SQLite serialises every write")
    session = _session(capacity=6)
    customers = [CustomerFactory() for _ in range(8)]
    barrier = threading.Barrier(len(customers) + 1)
    errors, refused = [], []

    def enrol(customer):
        try:
            barrier.wait()
            training_enrol(actor=None, session=session, customer=customer)
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            connection.close()

    def shrink():
        try:
            barrier.wait()
            training_session_change(actor=None, session=session, changes={"capacity": 3})
        except RuleViolation as exc:  # more than three were seated first
            refused.append(exc.code)
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=enrol, args=(c,)) for c in customers] + [threading.Thread(target=shrink)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == [] and refused in ([], ["capacity_below_seats"])
    capacity = TrainingSession.objects.get(pk=session.pk).capacity
    seated = Enrolment.objects.filter(session=session, status=EnrolmentStatus.ENROLLED).count()
    assert seated == capacity == (6 if refused else 3)
    assert Enrolment.objects.filter(session=session, status=EnrolmentStatus.WAITLISTED).count() == 8 - seated


def test_a_request_is_not_arranged_with_a_session_that_is_over_or_for_another_product():
    machine = ProductFactory(trainable=True)
    line = make_paid_order(lines=[(machine, 1, "499.00")]).lines.get()
    request = training_request_create(actor=None, order_line=line)
    held = _session(capacity=1)
    training_enrol(actor=None, session=held, customer=CustomerFactory())
    waiting = training_enrol(actor=None, session=held, customer=line.order.customer)  # stays waitlisted
    TrainingSession.objects.filter(pk=held.pk).update(status=SessionStatus.HELD)
    other_course = TrainingCourse.objects.create(code="grinder", name="Grinders", product=ProductFactory())
    elsewhere = _session(capacity=3)
    TrainingSession.objects.filter(pk=elsewhere.pk).update(course=other_course)
    wrong = Enrolment.objects.create(session=elsewhere, customer=line.order.customer, status=EnrolmentStatus.ENROLLED)

    for enrolment, code in ((waiting, "enrolment_not_open"), (wrong, "course_not_for_product")):
        with pytest.raises(RuleViolation) as refused:
            training_request_close(actor=None, request=request, outcome="Booked", enrolment=enrolment)
        assert refused.value.code == code
    assert TrainingRequest.objects.get(pk=request.pk).status == TrainingRequestStatus.OPEN


def test_the_longest_session_is_measured_in_real_time_across_a_clock_change():
    zone = ZoneInfo("Europe/Amsterdam")
    night = _clock_change(10)  # the next night the clocks go back
    starts = datetime.combine(night, time(0, 30), tzinfo=zone)
    ends = datetime.combine(night, time(12, 15), tzinfo=zone)  # 11 h 45 on the clock, 12 h 45 in fact

    with pytest.raises(RuleViolation) as refused:
        training_session_plan_check(starts_at=starts, ends_at=ends, trainer=None)

    assert refused.value.code == "session_too_long"
