"""Training sessions: seats up to the capacity, a waiting list promoted in arrival order, once per
customer, attendance; and on PostgreSQL, concurrent enrolments never overfill a session."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from core.choices import TouchpointKind
from core.errors import Conflict, RuleViolation
from core.models import Notification, Touchpoint
from installations.choices import EnrolmentStatus, SessionStatus
from installations.models import Enrolment, TrainingCourse, TrainingSession
from installations.selectors_training import training_request_queue
from installations.services_training import (
    training_attendance,
    training_cancel,
    training_enrol,
    training_request_close,
    training_request_create,
)
from tests.factories import CustomerFactory, LocationFactory, ProductFactory, make_paid_order


def _session(capacity=2, starts_in=timedelta(days=3)):
    course = TrainingCourse.objects.create(code=f"espresso-{capacity}-{starts_in.days}", name="Espresso at home")
    start = timezone.now() + starts_in
    return TrainingSession.objects.create(
        course=course,
        location=LocationFactory(),
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        capacity=capacity,
    )


def _status(enrolment):
    return Enrolment.objects.get(pk=enrolment.pk).status


@pytest.mark.django_db
def test_seats_fill_up_then_customers_wait_in_line_and_are_told_which():
    session = _session(capacity=2)
    first, second, third = (training_enrol(actor=None, session=session, customer=CustomerFactory()) for _ in range(3))

    assert [e.status for e in (first, second, third)] == ["enrolled", "enrolled", "waitlisted"]
    events = list(Notification.objects.order_by("id").values_list("event", flat=True))
    assert events == ["training_enrolled", "training_enrolled", "training_waitlisted"]
    assert Touchpoint.objects.filter(kind=TouchpointKind.TRAINING).count() == 3


@pytest.mark.django_db
def test_a_freed_seat_goes_to_the_first_in_line_who_is_told():
    session = _session(capacity=1)
    seated = training_enrol(actor=None, session=session, customer=CustomerFactory())
    first_in_line = training_enrol(actor=None, session=session, customer=CustomerFactory())
    second_in_line = training_enrol(actor=None, session=session, customer=CustomerFactory())

    training_cancel(actor=None, enrolment=seated)

    assert _status(first_in_line) == EnrolmentStatus.ENROLLED
    assert _status(second_in_line) == EnrolmentStatus.WAITLISTED
    promoted = Notification.objects.get(event="training_promoted")
    assert promoted.customer_id == first_in_line.customer_id and "it is yours" in promoted.body


@pytest.mark.django_db
def test_leaving_the_waiting_list_promotes_nobody():
    session = _session(capacity=1)
    training_enrol(actor=None, session=session, customer=CustomerFactory())
    waiting = training_enrol(actor=None, session=session, customer=CustomerFactory())
    behind = training_enrol(actor=None, session=session, customer=CustomerFactory())

    training_cancel(actor=None, enrolment=waiting)

    assert _status(behind) == EnrolmentStatus.WAITLISTED
    assert not Notification.objects.filter(event="training_promoted").exists()


@pytest.mark.django_db
def test_a_customer_enrols_once_and_may_come_back_after_cancelling():
    session = _session(capacity=3)
    customer = CustomerFactory()
    enrolment = training_enrol(actor=None, session=session, customer=customer)

    with pytest.raises(Conflict, match="Already enrolled"):
        training_enrol(actor=None, session=session, customer=customer)
    training_cancel(actor=None, enrolment=enrolment)
    assert training_enrol(actor=None, session=session, customer=customer).status == EnrolmentStatus.ENROLLED
    with pytest.raises(Conflict):
        training_cancel(actor=None, enrolment=enrolment)  # cancelled already


@pytest.mark.django_db
def test_past_or_cancelled_sessions_take_no_enrolments_and_purchases_must_be_the_customers():
    past = _session(starts_in=timedelta(days=-1))
    with pytest.raises(Conflict, match="not open"):
        training_enrol(actor=None, session=past, customer=CustomerFactory())
    session = _session()
    someone_elses = make_paid_order(lines=[(ProductFactory(), 1, "10.00")]).lines.get()
    with pytest.raises(RuleViolation, match="not this customer's"):
        training_enrol(actor=None, session=session, customer=CustomerFactory(), order_line=someone_elses)


@pytest.mark.django_db
def test_attendance_marks_who_came_once_the_session_started():
    session = _session(capacity=2)
    came, stayed_home = (training_enrol(actor=None, session=session, customer=CustomerFactory()) for _ in range(2))

    with pytest.raises(Conflict, match="not started"):
        training_attendance(actor=None, session=session, attended_customer_ids=[came.customer_id])
    TrainingSession.objects.filter(pk=session.pk).update(starts_at=timezone.now() - timedelta(hours=1))
    with pytest.raises(RuleViolation, match="Not enrolled"):
        training_attendance(actor=None, session=session, attended_customer_ids=[CustomerFactory().pk])
    training_attendance(actor=None, session=session, attended_customer_ids=[came.customer_id])

    assert (_status(came), _status(stayed_home)) == (EnrolmentStatus.ATTENDED, EnrolmentStatus.ABSENT)
    assert TrainingSession.objects.get(pk=session.pk).status == SessionStatus.HELD
    with pytest.raises(Conflict):
        training_attendance(actor=None, session=session, attended_customer_ids=[])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_enrolments_never_fill_more_seats_than_there_are():
    if connection.vendor != "postgresql":
        pytest.skip("real concurrent connections need PostgreSQL; SQLite serialises every write")
    session = _session(capacity=5)
    customers = [CustomerFactory() for _ in range(16)]
    barrier = threading.Barrier(len(customers))
    errors = []

    def run(customer):
        try:
            barrier.wait()
            training_enrol(actor=None, session=session, customer=customer)
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(c,)) for c in customers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    statuses = list(Enrolment.objects.filter(session=session).values_list("status", flat=True))
    assert statuses.count("enrolled") == 5 and statuses.count("waitlisted") == 11


@pytest.mark.django_db
def test_i_need_training_waits_in_the_queue_until_an_associate_arranges_it(associate):
    machine = ProductFactory(name="Espresso machine", trainable=True)
    line = make_paid_order(lines=[(machine, 1, "499.00")]).lines.get()
    request = training_request_create(actor=None, order_line=line, note="Milk foam, please")

    with pytest.raises(Conflict, match="already asked"):
        training_request_create(actor=None, order_line=line)
    assert list(training_request_queue()) == [request]
    session = _session(capacity=4)
    enrolment = training_enrol(actor=associate, session=session, customer=line.order.customer, order_line=line)
    with pytest.raises(RuleViolation, match="Say what"):
        training_request_close(actor=associate, request=request, outcome="", enrolment=enrolment)
    closed = training_request_close(actor=associate, request=request, outcome="Booked Saturday", enrolment=enrolment)

    assert closed.status == "arranged" and closed.handled_by == associate
    assert list(training_request_queue()) == []
    with pytest.raises(Conflict):
        training_request_close(actor=associate, request=request, outcome="again")


@pytest.mark.django_db
def test_only_trainable_products_can_be_asked_for():
    line = make_paid_order(lines=[(ProductFactory(name="Rug", trainable=False), 1, "99.00")]).lines.get()

    with pytest.raises(RuleViolation, match="no training for Rug"):
        training_request_create(actor=None, order_line=line)


@pytest.mark.django_db
def test_a_seat_is_not_given_up_or_passed_on_once_the_session_started():
    session = _session(capacity=1)
    seated = training_enrol(actor=None, session=session, customer=CustomerFactory())
    waiting = training_enrol(actor=None, session=session, customer=CustomerFactory())
    TrainingSession.objects.filter(pk=session.pk).update(starts_at=timezone.now() - timedelta(minutes=5))

    with pytest.raises(Conflict, match="started or is over"):
        training_cancel(actor=None, enrolment=seated)
    assert _status(waiting) == EnrolmentStatus.WAITLISTED


@pytest.mark.django_db
def test_the_customer_who_cancels_is_told_and_so_is_the_one_who_asked_for_training(associate):
    session = _session(capacity=2)
    enrolment = training_enrol(actor=None, session=session, customer=CustomerFactory())
    training_cancel(actor=None, enrolment=enrolment)
    line = make_paid_order(lines=[(ProductFactory(name="Mixer", trainable=True), 1, "99.00")]).lines.get()
    request = training_request_create(actor=None, order_line=line, note=None)
    training_request_close(actor=associate, request=request, outcome="No course for mixers yet")

    assert Notification.objects.filter(event="training_cancelled", customer=enrolment.customer).exists()
    answer = Notification.objects.get(event="training_request_answered")
    assert "No course for mixers yet" in answer.body
    assert Touchpoint.objects.filter(kind=TouchpointKind.TRAINING, summary__contains="declined").exists()


@pytest.mark.django_db
def test_a_seat_for_a_purchase_is_in_a_course_for_that_product():
    machine = ProductFactory(name="Espresso machine")
    session = _session()
    TrainingCourse.objects.filter(pk=session.course_id).update(product=machine)
    session = TrainingSession.objects.select_related("course").get(pk=session.pk)
    customer = CustomerFactory()
    kettle = make_paid_order(customer=customer, lines=[(ProductFactory(name="Kettle"), 1, "30.00")]).lines.get()
    bought = make_paid_order(customer=customer, lines=[(machine, 1, "400.00")]).lines.get()

    with pytest.raises(RuleViolation) as refused:
        training_enrol(actor=None, session=session, customer=customer, order_line=kettle)
    assert refused.value.code == "course_not_for_product"

    assert training_enrol(actor=None, session=session, customer=customer, order_line=bought).order_line == bought
