"""Appointments asked for without a time: the customer (or an agent for them) says when suits
them, the request waits in the store's queue, an associate schedules it into a free slot."""

from datetime import date, datetime, time, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from core.errors import Conflict, RuleViolation, TransitionNotAllowed
from core.models import Notification
from installations.choices import AppointmentStatus
from installations.models import Appointment
from installations.selectors import free_slots
from installations.services import (
    appointment_book,
    appointment_cancel,
    appointment_request,
    appointment_reschedule,
    appointment_schedule,
)
from tests.factories import AssociateProfileFactory, CustomerFactory, LocationFactory, UserFactory

pytestmark = pytest.mark.django_db

AMS = ZoneInfo("Europe/Amsterdam")


def _monday() -> date:
    today = timezone.localdate()
    return today + timedelta(days=7 - today.weekday() + 7)


def _at(hhmm: str) -> datetime:
    return datetime.combine(_monday(), time.fromisoformat(hhmm), tzinfo=AMS)


def _asked(setup, **overrides):
    fields = {
        "actor": None,
        "order_line": setup["line"],
        "service_type": setup["service"],
        "location": setup["store"],
        "address": setup["address"],
        "preferred": "Mornings, not Wednesday",
        **overrides,
    }
    return appointment_request(**fields)


def _post(client, url, body):
    return client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid4()))


def test_a_request_takes_no_time_but_a_unit_and_tells_the_customer(setup):
    requested = _asked(setup)

    assert requested.status == AppointmentStatus.REQUESTED
    assert (requested.associate, requested.starts_at, requested.blocked_from) == (None, None, None)
    assert requested.preferred == "Mornings, not Wednesday" and requested.city  # the address is copied
    message = Notification.objects.get(event="appointment_requested")
    assert "Mornings, not Wednesday" in message.body
    # a request holds nobody's time: every slot is still free
    slots = free_slots(service_type=setup["service"], location=setup["store"], date_from=_monday(), date_to=_monday())
    assert _at("09:30") in [slot.starts_at for slot in slots]


def test_requests_count_against_the_units_bought(setup):
    for _ in range(4):  # four ovens bought
        _asked(setup)

    with pytest.raises(RuleViolation) as refused:
        _asked(setup)
    assert refused.value.code == "units_already_booked"


def test_scheduling_gives_the_request_an_associate_and_a_free_slot(setup):
    requested = _asked(setup)

    scheduled = appointment_schedule(
        actor=setup["fitter"].user, appointment=requested, associate=setup["fitter"], starts_at=_at("10:00")
    )

    assert scheduled.status == AppointmentStatus.SCHEDULED and scheduled.associate == setup["fitter"]
    assert scheduled.starts_at == _at("10:00") and scheduled.ends_at == _at("11:30")
    assert scheduled.blocked_from == _at("09:30") and scheduled.blocked_until == _at("12:00")  # 30 min travel
    assert Notification.objects.filter(event="appointment_booked").count() == 1


def test_a_request_is_not_scheduled_into_a_taken_slot_or_with_someone_elses_associate(setup):
    appointment_book(
        actor=None,
        order_line=setup["line"],
        service_type=setup["service"],
        associate=setup["fitter"],
        starts_at=_at("10:00"),
        address=setup["address"],
    )
    requested = _asked(setup)

    with pytest.raises(Conflict) as taken:
        appointment_schedule(actor=None, appointment=requested, associate=setup["fitter"], starts_at=_at("10:30"))
    assert taken.value.code == "slot_taken" and taken.value.extra["next_slots"]

    stranger = AssociateProfileFactory(home_location=LocationFactory())
    with pytest.raises(RuleViolation) as elsewhere:
        appointment_schedule(actor=None, appointment=requested, associate=stranger, starts_at=_at("14:00"))
    assert elsewhere.value.code == "associate_elsewhere"
    assert Appointment.objects.get(pk=requested.pk).status == AppointmentStatus.REQUESTED


def test_a_request_is_cancelled_but_not_moved_or_scheduled_twice(setup):
    requested = _asked(setup)

    with pytest.raises(Conflict):
        appointment_reschedule(actor=None, appointment=requested, starts_at=_at("10:00"))
    scheduled = appointment_schedule(
        actor=None, appointment=requested, associate=setup["fitter"], starts_at=_at("10:00")
    )
    with pytest.raises(TransitionNotAllowed):
        appointment_schedule(actor=None, appointment=scheduled, associate=setup["fitter"], starts_at=_at("14:00"))

    other = _asked(setup)
    cancelled = appointment_cancel(actor=None, appointment=other, reason="Installed it myself")
    assert cancelled.status == AppointmentStatus.CANCELLED
    assert "Installed it myself" in Notification.objects.get(event="appointment_cancelled").body


# --- through the API ----------------------------------------------------------------------------


def _body(setup, **overrides):
    return {
        "order_line": setup["line"].pk,
        "service_type": setup["service"].pk,
        "location": setup["store"].pk,
        "address": setup["address"].pk,
        "preferred": "After 3 pm",
        **overrides,
    }


def test_the_customer_asks_in_the_app_and_the_store_schedules_from_its_queue(setup):
    customer = setup["line"].order.customer
    customer.user = UserFactory()
    customer.save()
    app = APIClient()
    app.force_authenticate(customer.user)
    fitter = APIClient()
    fitter.force_authenticate(setup["fitter"].user)

    asked = _post(app, "/api/v1/me/appointments/request/", _body(setup))
    assert asked.status_code == 201, asked.content
    body = asked.json()
    assert (body["status"], body["associate"], body["starts_at"], body["preferred"]) == (
        "requested",
        None,
        None,
        "After 3 pm",
    )
    assert body["allowed_transitions"] == ["cancel"]
    assert app.get("/api/v1/me/appointments/").json()["results"][0]["number"] == body["number"]

    queue = fitter.get(f"/api/v1/appointments/requests/?location={setup['store'].pk}")
    assert [row["number"] for row in queue.json()["results"]] == [body["number"]]
    assert fitter.get("/api/v1/appointments/").json()["results"] == []  # the day plans hold times only
    assert "schedule" in queue.json()["results"][0]["allowed_transitions"]

    scheduled = _post(
        fitter,
        f"/api/v1/appointments/{body['id']}/schedule/",
        {"associate": setup["fitter"].pk, "starts_at": _at("15:00").isoformat()},
    )
    assert scheduled.status_code == 200, scheduled.content
    assert scheduled.json()["status"] == "scheduled" and scheduled.json()["associate"]["id"] == setup["fitter"].pk
    assert fitter.get("/api/v1/appointments/requests/").json()["results"] == []


def test_a_request_for_another_customers_purchase_is_refused_and_writes_nothing(setup):
    stranger = CustomerFactory(user=UserFactory())
    app = APIClient()
    app.force_authenticate(stranger.user)

    response = _post(app, "/api/v1/me/appointments/request/", _body(setup, address=None))

    assert response.status_code == 400 and response["Content-Type"] == "application/problem+json"
    assert not Appointment.objects.exists()


@pytest.mark.parametrize(
    "overrides, status",
    [
        ({"order_line": "x"}, 400),
        ({"location": 2**64}, 400),
        ({"preferred": "x" * 301}, 400),
        ({"address": None}, 422),  # a home visit needs it
        ({"when": "now"}, 400),
    ],
)
def test_bad_requests_are_refused_field_by_field(setup, overrides, status):
    agent = APIClient()
    agent.force_authenticate(AssociateProfileFactory(user__roles=["customer_service"]).user)

    response = _post(agent, "/api/v1/appointments/request/", _body(setup, **overrides))

    assert response.status_code == status, response.content
    assert not Appointment.objects.exists()


@pytest.mark.parametrize(
    "body",
    [{}, {"associate": "x", "starts_at": "2026-01-01T10:00:00+01:00"}, {"associate": 1, "starts_at": "10:00"}],
)
def test_bad_schedule_input_is_a_400_and_changes_nothing(setup, body):
    requested = _asked(setup)
    fitter = APIClient()
    fitter.force_authenticate(setup["fitter"].user)

    response = _post(fitter, f"/api/v1/appointments/{requested.pk}/schedule/", body)

    assert response.status_code == 400, response.content
    assert Appointment.objects.get().status == AppointmentStatus.REQUESTED


def test_an_associate_of_another_store_may_not_schedule_it(setup, associate_client):
    requested = _asked(setup)

    response = _post(
        associate_client,
        f"/api/v1/appointments/{requested.pk}/schedule/",
        {"associate": setup["fitter"].pk, "starts_at": _at("10:00").isoformat()},
    )

    assert response.status_code == 403
    assert Appointment.objects.get().status == AppointmentStatus.REQUESTED


def test_the_appointment_page_of_a_request_shows_it_waits_for_a_time(setup, client):
    requested = _asked(setup)
    client.force_login(setup["fitter"].user)

    page = client.get(f"/installations/appointments/{requested.number}/")

    assert page.status_code == 200
    assert requested.number in page.content.decode()


def test_an_associate_schedules_a_request_from_its_page(setup, client):
    requested = _asked(setup)
    client.force_login(setup["fitter"].user)
    page = client.get(f"/installations/appointments/{requested.number}/?since={_monday()}&until={_monday()}")
    assert "Schedule it" in page.content.decode()
    offered = f"{setup['fitter'].pk}|{_at('09:30').astimezone(timezone.get_current_timezone()).isoformat()}"

    bad = client.post(f"/installations/appointments/{requested.number}/schedule/", {"slot": "nobody|then"})
    assert Appointment.objects.get().status == AppointmentStatus.REQUESTED
    done = client.post(f"/installations/appointments/{requested.number}/schedule/", {"slot": offered})

    assert bad.status_code in (302, 400, 422) and done.status_code == 302
    scheduled = Appointment.objects.get()
    assert (scheduled.status, scheduled.associate, scheduled.starts_at) == (
        AppointmentStatus.SCHEDULED,
        setup["fitter"],
        _at("09:30"),
    )


def test_the_request_queue_runs_the_same_queries_for_one_or_many(setup):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    fitter = APIClient()
    fitter.force_authenticate(setup["fitter"].user)
    _asked(setup)
    fitter.get("/api/v1/appointments/requests/")

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert fitter.get("/api/v1/appointments/requests/").status_code == 200
        return len(queries)

    one = count()
    for _ in range(3):
        _asked(setup)
    assert count() == one


def test_a_scheduled_requests_history_says_it_was_asked_for_then_booked(setup):
    from installations.selectors_calendar import appointment_history

    requested = _asked(setup)
    scheduled = appointment_schedule(
        actor=None, appointment=requested, associate=setup["fitter"], starts_at=_at("10:00")
    )

    assert [change.what for change in appointment_history(scheduled)] == ["Asked for", "Booked"]
