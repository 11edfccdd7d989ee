"""The training session page: who is seated and who waits in which place, and its steps (enrol a
customer, record who came, move or resize, call off), each through the services and refused with
nothing written where it should be; an associate writes at their home store only."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.models import Notification
from core.timezones import zone_or_utc
from installations.choices import EnrolmentStatus, SessionStatus
from installations.models import Enrolment, TrainingCourse, TrainingSession
from installations.services_training import training_enrol, training_session_change
from tests.factories import AssociateProfileFactory, CustomerFactory, LocationFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return LocationFactory(time_zone="Europe/Amsterdam", name="Ravelijn Utrecht")


@pytest.fixture
def trainer_client(client, store):
    client.force_login(AssociateProfileFactory(home_location=store, user__roles=["associate"]).user)
    return client


def _session(store, *, capacity=2, starts_in=timedelta(days=3)):
    course = TrainingCourse.objects.create(code=f"espresso-{capacity}-{starts_in.days}", name="Espresso at home")
    start = (timezone.now() + starts_in).replace(minute=0, second=0, microsecond=0)
    return TrainingSession.objects.create(
        course=course, location=store, starts_at=start, ends_at=start + timedelta(hours=2), capacity=capacity
    )


def _url(session, step=""):
    return f"/installations/training/{session.pk}/{step + '/' if step else ''}"


def _snapshot(session):
    return (
        list(TrainingSession.objects.filter(pk=session.pk).values()),
        list(Enrolment.objects.order_by("pk").values()),
        Notification.objects.count(),
    )


def test_the_page_shows_who_is_seated_and_who_waits_in_order(trainer_client, store):
    session = _session(store, capacity=1)
    seated, first, second = (training_enrol(actor=None, session=session, customer=CustomerFactory()) for _ in range(3))

    page = trainer_client.get(_url(session))

    assert page.status_code == 200
    assert [e.pk for e in page.context["seated"]] == [seated.pk]
    assert [e.pk for e in page.context["waiting"]] == [first.pk, second.pk]
    assert set(page.context["forms"]) == {"enrol", "change", "cancel"}
    html = page.content.decode()
    assert first.customer.full_name in html and "1 of 1 taken · 2 waiting" in html


def test_the_page_runs_the_same_queries_whatever_its_enrolments(trainer_client, store):
    small, big = _session(store, capacity=1), _session(store, capacity=3, starts_in=timedelta(days=4))
    training_enrol(actor=None, session=small, customer=CustomerFactory())
    for _ in range(6):
        training_enrol(actor=None, session=big, customer=CustomerFactory())
    trainer_client.get(_url(small))

    def count(session):
        with CaptureQueriesContext(connection) as ctx:
            assert trainer_client.get(_url(session)).status_code == 200
        return [q["sql"] for q in ctx.captured_queries]

    assert len(count(small)) == len(count(big))


def test_a_customer_is_enrolled_by_number_a_seat_first_then_the_waiting_list(trainer_client, store):
    session = _session(store, capacity=1)
    first, second = CustomerFactory(), CustomerFactory()

    seat = trainer_client.post(_url(session, "enrol"), {"enrol-customer": first.number.lower()}, follow=True)
    line = trainer_client.post(_url(session, "enrol"), {"enrol-customer": second.number}, follow=True)
    before = _snapshot(session)
    unknown = trainer_client.post(_url(session, "enrol"), {"enrol-customer": "CNOBODY00"})

    assert "has a seat" in seat.content.decode() and "waiting list" in line.content.decode()
    statuses = dict(Enrolment.objects.values_list("customer_id", "status"))
    assert statuses == {first.pk: EnrolmentStatus.ENROLLED, second.pk: EnrolmentStatus.WAITLISTED}
    assert unknown.status_code == 422 and "No customer with number CNOBODY00" in unknown.content.decode()
    assert _snapshot(session) == before


def test_moving_the_session_on_the_page_tells_the_people_in_it(trainer_client, store):
    session = _session(store, capacity=1)
    seated = training_enrol(actor=None, session=session, customer=CustomerFactory())
    day = (session.starts_at + timedelta(days=1)).astimezone(zone_or_utc(store.time_zone)).date()

    response = trainer_client.post(
        _url(session, "change"),
        {
            "change-day": day.isoformat(),
            "change-starts": "18:00",
            "change-ends": "20:30",
            "change-capacity": 1,
            "change-reason": "an evening suits more people",
        },
        follow=True,
    )

    assert "told the new time" in response.content.decode()
    session.refresh_from_db()
    local = session.starts_at.astimezone(zone_or_utc(store.time_zone))
    assert (local.date(), local.hour, (session.ends_at - session.starts_at)) == (day, 18, timedelta(hours=2.5))
    assert Notification.objects.get(event="training_moved").customer_id == seated.customer_id


def test_fewer_seats_than_are_taken_or_a_call_off_without_reason_change_nothing(trainer_client, store):
    session = _session(store, capacity=2)
    for _ in range(2):
        training_enrol(actor=None, session=session, customer=CustomerFactory())
    shown = trainer_client.get(_url(session)).context["forms"]["change"].initial
    before = _snapshot(session)

    fewer = trainer_client.post(
        _url(session, "change"),
        {
            "change-day": shown["day"].isoformat(),
            "change-starts": shown["starts"].strftime("%H:%M"),
            "change-ends": shown["ends"].strftime("%H:%M"),
            "change-capacity": 1,
        },
    )
    silent = trainer_client.post(_url(session, "cancel"), {"cancel-reason": ""})

    assert fewer.status_code == 422 and "2 seats are taken" in fewer.content.decode()
    assert silent.status_code == 422 and "Say why" in silent.content.decode()
    assert _snapshot(session) == before


def test_calling_the_session_off_on_the_page(trainer_client, store):
    session = _session(store)
    seated = training_enrol(actor=None, session=session, customer=CustomerFactory())

    response = trainer_client.post(_url(session, "cancel"), {"cancel-reason": "The trainer is ill"}, follow=True)

    assert "called off" in response.content.decode()
    assert TrainingSession.objects.get(pk=session.pk).status == SessionStatus.CANCELLED
    assert Enrolment.objects.get(pk=seated.pk).status == EnrolmentStatus.CANCELLED
    assert response.context["forms"] == {}


def test_once_started_the_page_records_who_came(trainer_client, store):
    session = _session(store)
    came, stayed_home = (training_enrol(actor=None, session=session, customer=CustomerFactory()) for _ in range(2))
    start = timezone.now() - timedelta(minutes=30)
    TrainingSession.objects.filter(pk=session.pk).update(starts_at=start, ends_at=start + timedelta(hours=2))

    page = trainer_client.get(_url(session))
    response = trainer_client.post(
        _url(session, "attendance"), {f"attendance-came_{came.customer_id}": "on"}, follow=True
    )

    assert set(page.context["forms"]) == {"attendance"}
    assert "Attendance recorded" in response.content.decode()
    statuses = dict(Enrolment.objects.values_list("pk", "status"))
    assert statuses == {came.pk: EnrolmentStatus.ATTENDED, stayed_home.pk: EnrolmentStatus.ABSENT}


def test_an_associate_of_another_store_reads_but_does_not_write(client, store):
    session = _session(store)
    client.force_login(AssociateProfileFactory(user__roles=["associate"]).user)  # another store
    before = _snapshot(session)

    page = client.get(_url(session))
    enrol = client.post(_url(session, "enrol"), {"enrol-customer": CustomerFactory().number})
    cancel = client.post(_url(session, "cancel"), {"cancel-reason": "Not mine"})

    assert page.status_code == 200 and page.context["forms"] == {}
    assert (enrol.status_code, cancel.status_code) == (403, 403)
    assert _snapshot(session) == before


def test_the_page_is_for_staff(client, store):
    session = _session(store)
    assert client.get(_url(session)).status_code == 302  # to sign-in
    client.force_login(UserFactory())  # signed in, but no role: a customer's app login, say
    assert client.get(_url(session)).status_code == 403
    assert client.post(_url(session, "cancel"), {"cancel-reason": "x"}).status_code == 403
    assert TrainingSession.objects.get(pk=session.pk).status == SessionStatus.SCHEDULED


def _shown(page_form) -> dict:
    """The change form as the page showed it: its values and the hidden initial ones sent back."""
    form = page_form
    values = {
        "day": form.initial["day"].isoformat(),
        "starts": form.initial["starts"].strftime("%H:%M:%S"),
        "ends": form.initial["ends"].strftime("%H:%M:%S"),
        "capacity": form.initial["capacity"],
    }
    return {f"change-{k}": v for k, v in values.items()} | {f"initial-change-{k}": v for k, v in values.items()}


def _clock_change(month: int) -> date:
    """The next last Sunday of `month` (March: the clocks go forward in Europe; October: back)."""
    today = timezone.localdate()
    for year in (today.year, today.year + 1):
        day = date(year, month, 31)
        while day.weekday() != 6:
            day -= timedelta(days=1)
        if day > today + timedelta(days=2):
            return day
    raise AssertionError("unreachable")


def test_a_page_shown_before_someone_else_moved_the_session_only_changes_the_seats(trainer_client, store):
    session = _session(store, capacity=2)
    shown = _shown(trainer_client.get(_url(session)).context["forms"]["change"])
    later = session.starts_at + timedelta(days=1)
    training_session_change(
        actor=None, session=session, changes={"starts_at": later, "ends_at": later + timedelta(hours=2)}
    )

    response = trainer_client.post(_url(session, "change"), shown | {"change-capacity": 5}, follow=True)

    session.refresh_from_db()
    assert (session.starts_at, session.capacity) == (later, 5)
    assert "Saved: 5 seats now" in response.content.decode()


def test_moving_and_resizing_at_once_says_both(trainer_client, store):
    session = _session(store, capacity=1)
    shown = _shown(trainer_client.get(_url(session)).context["forms"]["change"])

    response = trainer_client.post(
        _url(session, "change"),
        shown | {"change-starts": "07:00", "change-ends": "08:00", "change-capacity": 3},
        follow=True,
    )

    assert "Saved: moved; everyone enrolled or waiting has been told the new time, and 3 seats now" in (
        response.content.decode()
    )


def test_a_session_that_ends_after_midnight_is_resized_and_moved_on_the_page(trainer_client, store):
    session = _session(store, capacity=2)
    shown = _shown(trainer_client.get(_url(session)).context["forms"]["change"])
    zone = zone_or_utc(store.time_zone)

    moved = trainer_client.post(_url(session, "change"), shown | {"change-starts": "22:00", "change-ends": "01:00"})
    session.refresh_from_db()
    shown = _shown(trainer_client.get(_url(session)).context["forms"]["change"])
    resized = trainer_client.post(_url(session, "change"), shown | {"change-capacity": 4})

    assert (moved.status_code, resized.status_code) == (302, 302)
    session.refresh_from_db()
    assert session.ends_at - session.starts_at == timedelta(hours=3) and session.capacity == 4
    assert session.starts_at.astimezone(zone).hour == 22


@pytest.mark.parametrize(("month", "clock", "says"), [(3, "02:30", "does not exist"), (10, "02:30", "happens twice")])
def test_a_time_the_clock_change_skips_or_repeats_is_refused(trainer_client, month, clock, says):
    store = LocationFactory(time_zone="Europe/Amsterdam")
    trainer_client.force_login(AssociateProfileFactory(home_location=store, user__roles=["associate"]).user)
    session = _session(store)
    shown = _shown(trainer_client.get(_url(session)).context["forms"]["change"])
    before = _snapshot(session)

    response = trainer_client.post(
        _url(session, "change"),
        shown | {"change-day": _clock_change(month).isoformat(), "change-starts": clock, "change-ends": "05:00"},
    )

    assert response.status_code == 422 and says in response.content.decode()
    assert _snapshot(session) == before


@pytest.mark.parametrize("step", ["change", "attendance"])
def test_an_associate_of_another_store_neither_moves_nor_takes_attendance(client, store, step):
    session = _session(store)
    client.force_login(AssociateProfileFactory(user__roles=["associate"]).user)
    before = _snapshot(session)

    response = client.post(_url(session, step), {"change-capacity": 9, "change-day": "2030-01-01"})

    assert response.status_code == 403
    assert _snapshot(session) == before
