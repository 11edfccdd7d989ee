"""A planned training session moved, re-staffed, resized or called off: the people enrolled or
waiting are told (once per change), more seats seat the waiting list in order, fewer than are
taken are refused, and a cancelled session reopens the "I need training" requests it answered."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.choices import TouchpointKind
from core.errors import Conflict, RuleViolation
from core.models import Notification, Touchpoint
from installations.choices import EnrolmentStatus, SessionStatus, TrainingRequestStatus
from installations.models import Enrolment, TrainingCourse, TrainingRequest, TrainingSession
from installations.services_training import (
    training_enrol,
    training_request_close,
    training_request_create,
    training_session_cancel,
    training_session_change,
)
from tests.factories import AssociateProfileFactory, CustomerFactory, ProductFactory, make_paid_order
from tests.installations.test_training import _session

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
    assert Touchpoint.objects.filter(kind=TouchpointKind.TRAINING, summary__startswith="Moved: Espresso at home").count() == 2


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
