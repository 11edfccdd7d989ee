"""The training admin: managers keep the courses and plan sessions (a saved one changes and is
called off through the services, which tell the people in it), read enrolments and the "I need
training" queue, and cancel enrolments with the same service the API uses (the first in line is
promoted; refusals are reported per row). Change lists run a fixed number of queries."""

from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.models import Notification
from installations.admin import training as training_admin
from installations.choices import EnrolmentStatus
from installations.models import Absence, Enrolment, TrainingCourse, TrainingRequest, TrainingSession
from installations.services_training import (
    training_cancel,
    training_enrol,
    training_request_create,
    training_session_change,
)
from tests.factories import AssociateProfileFactory, CustomerFactory, LocationFactory, ProductFactory, make_paid_order

pytestmark = pytest.mark.django_db


def _session(*, capacity=1, days=3, course=None):
    course = course or TrainingCourse.objects.create(code=f"course-{days}-{capacity}", name=f"Course {days}")
    start = timezone.now() + timedelta(days=days)
    return TrainingSession.objects.create(
        course=course,
        location=LocationFactory(),
        trainer=AssociateProfileFactory(user__roles=["associate"]),
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        capacity=capacity,
    )


def _rows(count):
    """`count` sessions, each with a seat taken, one waiting and one cancelled, and as many requests."""
    machine = ProductFactory(trainable=True)
    for day in range(1, count + 1):
        session = _session(capacity=1, days=day)
        line = make_paid_order(lines=[(machine, 1, "1.00")]).lines.get()
        training_enrol(actor=None, session=session, customer=line.order.customer, order_line=line)
        training_enrol(actor=None, session=session, customer=CustomerFactory())
        gone = training_enrol(actor=None, session=session, customer=CustomerFactory())
        training_cancel(actor=None, enrolment=gone)
        training_request_create(actor=None, order_line=line, note="Please")


@pytest.fixture
def signed_in(client, admin_user):
    client.force_login(admin_user)
    return client


def test_a_manager_cancels_enrolments_the_first_in_line_moves_up_and_refusals_are_reported(signed_in):
    session = _session(capacity=1)
    seated = training_enrol(actor=None, session=session, customer=CustomerFactory())
    waiting = training_enrol(actor=None, session=session, customer=CustomerFactory())
    gone = training_enrol(actor=None, session=session, customer=CustomerFactory())
    gone = training_cancel(actor=None, enrolment=gone)

    response = signed_in.post(
        "/admin/installations/enrolment/",
        {"action": "cancel_enrolment", "_selected_action": [seated.pk, gone.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert Enrolment.objects.get(pk=seated.pk).status == EnrolmentStatus.CANCELLED
    assert Enrolment.objects.get(pk=waiting.pk).status == EnrolmentStatus.ENROLLED
    assert Notification.objects.get(event="training_promoted").customer_id == waiting.customer_id
    messages = [(m.level_tag, m.message) for m in get_messages(response.wsgi_request)]
    assert ("warning", f"{gone}: A cancelled enrolment is not cancelled.") in messages
    assert ("success", "Cancel the selected enrolments (the first in line moves up): 1 done.") in messages


def test_the_session_change_list_shows_seats_taken_and_the_waiting_list(signed_in):
    _rows(2)

    response = signed_in.get("/admin/installations/trainingsession/")

    assert response.status_code == 200
    rows = list(response.context["cl"].result_list)
    assert [(row.capacity, row.seats_taken, row.waiting) for row in rows] == [(1, 1, 1), (1, 1, 1)]


def test_a_session_page_lists_its_enrolments_read_only_and_keeps_its_status(signed_in):
    session = _session(capacity=1)
    seated = training_enrol(actor=None, session=session, customer=CustomerFactory())
    training_enrol(actor=None, session=session, customer=CustomerFactory())
    url = f"/admin/installations/trainingsession/{session.pk}/change/"

    page = signed_in.get(url)

    assert page.status_code == 200
    assert str(seated.customer) in page.content.decode()
    assert "status" in page.context["adminform"].readonly_fields
    inline = page.context["inline_admin_formsets"][0]
    assert not inline.has_add_permission and not inline.has_change_permission and not inline.formset.can_delete


def test_managers_keep_courses_and_plan_sessions(client, manager):
    client.force_login(manager)
    store = LocationFactory()
    created = client.post(
        "/admin/installations/trainingcourse/add/", {"code": "espresso", "name": "Espresso at home", "is_active": "on"}
    )
    course = TrainingCourse.objects.get(code="espresso")
    start = timezone.localtime() + timedelta(days=5)
    planned = client.post(
        "/admin/installations/trainingsession/add/",
        {
            "course": course.pk,
            "place": "store",
            "location": store.pk,
            "starts_at_0": start.strftime("%Y-%m-%d"),
            "starts_at_1": "10:00:00",
            "ends_at_0": start.strftime("%Y-%m-%d"),
            "ends_at_1": "12:00:00",
            "capacity": 8,
            "enrolments-TOTAL_FORMS": 0,
            "enrolments-INITIAL_FORMS": 0,
        },
    )

    assert created.status_code == 302, created.content
    assert planned.status_code == 302, planned.content.decode()[:2000]
    assert TrainingSession.objects.get(course=course).capacity == 8


def test_enrolments_and_requests_are_read_only_here(signed_in):
    _rows(1)
    enrolment = Enrolment.objects.first()
    request = TrainingRequest.objects.get()

    assert signed_in.get("/admin/installations/enrolment/add/").status_code == 403
    assert signed_in.get("/admin/installations/trainingrequest/add/").status_code == 403
    assert signed_in.get(f"/admin/installations/enrolment/{enrolment.pk}/delete/").status_code == 403
    assert signed_in.get(f"/admin/installations/enrolment/{enrolment.pk}/history/").status_code == 200
    page = signed_in.get(f"/admin/installations/trainingrequest/{request.pk}/change/")
    assert page.status_code == 200 and "Please" in page.content.decode()


def test_the_request_queue_filters_by_status(signed_in):
    _rows(2)
    TrainingRequest.objects.filter(pk=TrainingRequest.objects.first().pk).update(status="declined")

    open_only = signed_in.get("/admin/installations/trainingrequest/", {"status__exact": "open"})

    assert open_only.status_code == 200 and len(open_only.context["cl"].result_list) == 1


MODELS = [TrainingCourse, TrainingSession, Enrolment, TrainingRequest]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.model_name)
def test_training_change_lists_run_constant_queries(model, signed_in, monkeypatch):
    _rows(4)
    url = f"/admin/installations/{model._meta.model_name}/"
    model_admin = admin.site._registry[model]
    signed_in.get(url)  # warm up

    def count(per_page):
        monkeypatch.setattr(model_admin, "list_per_page", per_page)
        with CaptureQueriesContext(connection) as ctx:
            response = signed_in.get(url)
        assert response.status_code == 200
        assert len(response.context["cl"].result_list) == min(per_page, model.objects.count())
        return [q["sql"] for q in ctx.captured_queries]

    one, many = count(1), count(25)

    assert len(one) == len(many), "\n".join(many)


def test_a_session_page_runs_constant_queries_whatever_its_enrolments(signed_in):
    small = _session(capacity=1, days=2)
    big = _session(capacity=2, days=4)
    training_enrol(actor=None, session=small, customer=CustomerFactory())
    for _ in range(5):
        training_enrol(actor=None, session=big, customer=CustomerFactory())
    signed_in.get(f"/admin/installations/trainingsession/{small.pk}/change/")

    def count(session):
        with CaptureQueriesContext(connection) as ctx:
            assert signed_in.get(f"/admin/installations/trainingsession/{session.pk}/change/").status_code == 200
        return [q["sql"] for q in ctx.captured_queries]

    one, five = count(small), count(big)

    assert len(one) == len(five), "\n".join(five)


def test_a_session_with_people_enrolled_keeps_its_course(signed_in):
    empty, booked = _session(), _session(days=4)
    training_enrol(actor=None, session=booked, customer=CustomerFactory())

    def readonly(session):
        page = signed_in.get(f"/admin/installations/trainingsession/{session.pk}/change/")
        return set(page.context["adminform"].readonly_fields)

    assert readonly(empty) == {"status"}
    assert readonly(booked) == {"course", "status"}


def _change(client, session, **fields):
    start, end = timezone.localtime(session.starts_at), timezone.localtime(session.ends_at)
    data = {
        "course": session.course_id,
        "place": session.place,
        "location": session.location_id,
        "trainer": session.trainer_id or "",
        "starts_at_0": start.strftime("%Y-%m-%d"),
        "starts_at_1": start.strftime("%H:%M:%S"),
        "ends_at_0": end.strftime("%Y-%m-%d"),
        "ends_at_1": end.strftime("%H:%M:%S"),
        "capacity": session.capacity,
        "change_reason": "",
        "enrolments-TOTAL_FORMS": 0,
        "enrolments-INITIAL_FORMS": 0,
    } | fields
    return client.post(f"/admin/installations/trainingsession/{session.pk}/change/", data)


def test_moving_a_booked_session_in_the_admin_tells_the_people_in_it(signed_in):
    session = _session(capacity=1)
    seated = training_enrol(actor=None, session=session, customer=CustomerFactory())
    waiting = training_enrol(actor=None, session=session, customer=CustomerFactory())
    later = timezone.localtime(session.starts_at) + timedelta(days=1)

    response = _change(
        signed_in,
        session,
        starts_at_0=later.strftime("%Y-%m-%d"),
        ends_at_0=later.strftime("%Y-%m-%d"),
        capacity=2,
        change_reason="the room is being painted",
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    session.refresh_from_db()
    assert session.starts_at.date() == later.date() and session.capacity == 2
    told = Notification.objects.filter(event="training_moved")
    assert sorted(told.values_list("customer_id", flat=True)) == sorted([seated.customer_id, waiting.customer_id])
    assert "the room is being painted" in told.first().body
    assert Enrolment.objects.get(pk=waiting.pk).status == EnrolmentStatus.ENROLLED  # the new seat


def test_fewer_seats_than_are_taken_are_refused_on_the_field(signed_in):
    session = _session(capacity=2)
    for _ in range(2):
        training_enrol(actor=None, session=session, customer=CustomerFactory())

    response = _change(signed_in, session, capacity=1)

    assert response.status_code == 200
    assert "2 seats are taken" in str(response.context["adminform"].form.errors["capacity"])
    assert TrainingSession.objects.get(pk=session.pk).capacity == 2


def test_a_manager_calls_sessions_off_with_a_reason_everyone_is_told(signed_in):
    session, other = _session(capacity=1), _session(days=5)
    seated = training_enrol(actor=None, session=session, customer=CustomerFactory())

    without = signed_in.post(
        "/admin/installations/trainingsession/",
        {"action": "cancel_session", "_selected_action": [session.pk], "reason": ""},
        follow=True,
    )
    assert TrainingSession.objects.get(pk=session.pk).status == "scheduled"
    assert any("Say why" in m.message for m in get_messages(without.wsgi_request))

    signed_in.post(
        "/admin/installations/trainingsession/",
        {"action": "cancel_session", "_selected_action": [session.pk, other.pk], "reason": "The trainer is ill"},
    )

    assert set(TrainingSession.objects.values_list("status", flat=True)) == {"cancelled"}
    assert Enrolment.objects.get(pk=seated.pk).status == EnrolmentStatus.CANCELLED
    assert Notification.objects.get(event="training_session_cancelled").customer_id == seated.customer_id


def _shown(session):
    """What the change page showed, as the hidden initial values the form sends back."""
    start, end = timezone.localtime(session.starts_at), timezone.localtime(session.ends_at)
    return {
        "initial-course": session.course_id,
        "initial-place": session.place,
        "initial-location": session.location_id,
        "initial-trainer": session.trainer_id or "",
        "initial-starts_at_0": start.strftime("%Y-%m-%d"),
        "initial-starts_at_1": start.strftime("%H:%M:%S"),
        "initial-ends_at_0": end.strftime("%Y-%m-%d"),
        "initial-ends_at_1": end.strftime("%H:%M:%S"),
        "initial-capacity": session.capacity,
    }


def test_saving_a_page_shown_before_someone_moved_the_session_does_not_move_it_back(signed_in):
    session = _session(capacity=2)
    shown = TrainingSession.objects.get(pk=session.pk)
    later = session.starts_at + timedelta(days=1)
    training_session_change(
        actor=None, session=session, changes={"starts_at": later, "ends_at": later + timedelta(hours=2)}
    )

    response = _change(signed_in, shown, capacity=4, **_shown(shown))  # only the seats were changed on the page

    assert response.status_code == 302, response.context["adminform"].form.errors
    session.refresh_from_db()
    assert (session.starts_at, session.capacity) == (later, 4)


def test_a_save_the_service_refuses_after_the_form_passed_says_so_and_logs_nothing(signed_in, monkeypatch):
    session = _session(capacity=2)
    for _ in range(2):
        training_enrol(actor=None, session=session, customer=CustomerFactory())
    # the page's check ran while a seat was still free; by the save both are taken
    monkeypatch.setattr(training_admin, "training_session_change_check", lambda session, changes: set(changes))

    response = _change(signed_in, session, capacity=1)

    assert response.status_code == 302 and response["Location"].endswith(f"/trainingsession/{session.pk}/change/")
    shown = [m.message for m in get_messages(response.wsgi_request)]
    assert shown == ["Not saved: 2 seats are taken; the session cannot have fewer."]
    assert TrainingSession.objects.get(pk=session.pk).capacity == 2
    assert not LogEntry.objects.filter(object_id=str(session.pk)).exists()


def test_a_new_session_in_the_past_or_with_a_busy_trainer_is_refused_on_the_field(client, manager):
    client.force_login(manager)
    course = TrainingCourse.objects.create(code="latte", name="Latte art")
    trainer = AssociateProfileFactory(user__roles=["associate"])
    start = timezone.localtime() + timedelta(days=5)
    Absence.objects.create(associate=trainer, starts_at=start - timedelta(days=1), ends_at=start + timedelta(days=1))

    def plan(day, **fields):
        return client.post(
            "/admin/installations/trainingsession/add/",
            {
                "course": course.pk,
                "place": "store",
                "location": LocationFactory().pk,
                "starts_at_0": day.strftime("%Y-%m-%d"),
                "starts_at_1": "10:00:00",
                "ends_at_0": day.strftime("%Y-%m-%d"),
                "ends_at_1": "12:00:00",
                "capacity": 8,
                "enrolments-TOTAL_FORMS": 0,
                "enrolments-INITIAL_FORMS": 0,
            }
            | fields,
        )

    past = plan(timezone.localtime() - timedelta(days=2))
    busy = plan(start, trainer=trainer.pk)

    assert "starts_at" in past.context["adminform"].form.errors
    assert "not free then" in str(busy.context["adminform"].form.errors["trainer"])
    assert not TrainingSession.objects.exists()
