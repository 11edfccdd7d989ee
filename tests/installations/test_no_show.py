"""A no-show: the associate came (or the customer did not come to the store). Staff record it once
the start time has passed, never for a started appointment; the customer is told once how to
book again, the timeline shows it, and the unit may be booked again."""

from datetime import date, datetime, time, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.utils import timezone

from core.choices import TouchpointKind
from core.errors import Conflict, RuleViolation, TransitionNotAllowed
from core.models import Notification, StateTransition, Touchpoint
from installations.choices import AppointmentStatus
from installations.models import Appointment
from installations.services import appointment_book, appointment_no_show, appointment_start
from tests.factories import make_paid_order

pytestmark = pytest.mark.django_db

AMS = ZoneInfo("Europe/Amsterdam")


def _next_monday() -> date:
    today = timezone.localdate()
    return today + timedelta(days=7 - today.weekday() + 7)


def _book(setup, hhmm="10:00", line=None, day=None):
    return appointment_book(
        actor=setup["fitter"].user,
        order_line=line or setup["line"],
        service_type=setup["service"],
        associate=setup["fitter"],
        starts_at=datetime.combine(day or _next_monday(), time.fromisoformat(hhmm), tzinfo=AMS),
        address=setup["address"],
    )


def _in_the_past(appointment, days=28):
    """Move a booking back in time (bookings are made ahead; the clock cannot be turned on)."""
    shift = timedelta(days=days)
    Appointment.objects.filter(pk=appointment.pk).update(
        starts_at=F("starts_at") - shift,
        ends_at=F("ends_at") - shift,
        blocked_from=F("blocked_from") - shift,
        blocked_until=F("blocked_until") - shift,
    )
    return Appointment.objects.get(pk=appointment.pk)


def test_a_no_show_is_recorded_after_the_start_and_the_customer_is_told_once(setup):
    appointment = _in_the_past(_book(setup))

    missed = appointment_no_show(actor=setup["fitter"].user, appointment=appointment, note="Rang twice, no answer")

    assert missed.status == AppointmentStatus.NO_SHOW
    message = Notification.objects.get(event="appointment_no_show")
    assert "we could not find you" in message.body and "Book a new time" in message.body
    assert "Rang twice" not in message.body  # the note is for the record, not for the customer
    touchpoint = Touchpoint.objects.filter(kind=TouchpointKind.INSTALLATION, subject_id=appointment.pk).latest("pk")
    assert "not there" in touchpoint.summary and "Rang twice" in touchpoint.summary
    record = StateTransition.objects.get(transition="mark_no_show", subject_id=appointment.pk)
    assert (record.from_state, record.to_state, record.reason) == ("scheduled", "no_show", "Rang twice, no answer")
    with pytest.raises(TransitionNotAllowed):
        appointment_no_show(actor=setup["fitter"].user, appointment=missed, note="Again")
    assert Notification.objects.filter(event="appointment_no_show").count() == 1


def test_a_no_show_before_the_start_time_is_a_409_too_early(setup):
    appointment = _book(setup)

    with pytest.raises(Conflict) as excinfo:
        appointment_no_show(actor=setup["fitter"].user, appointment=appointment, note="Nobody home")

    assert excinfo.value.code == "too_early"
    assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.SCHEDULED
    assert not Notification.objects.filter(event="appointment_no_show").exists()


def test_a_started_appointment_is_not_a_no_show(setup):
    appointment = appointment_start(actor=None, appointment=_in_the_past(_book(setup)))

    with pytest.raises(TransitionNotAllowed) as excinfo:
        appointment_no_show(actor=setup["fitter"].user, appointment=appointment, note="Left early")

    assert excinfo.value.extra["allowed"] == ["complete"]


def test_only_staff_record_a_no_show_and_say_what_happened(setup, customer):
    appointment = _in_the_past(_book(setup))

    with pytest.raises(PermissionDenied):
        appointment_no_show(actor=customer.user, appointment=appointment, note="I was out")
    with pytest.raises(PermissionDenied):
        appointment_no_show(actor=None, appointment=appointment, note="Nobody home")
    with pytest.raises(RuleViolation):
        appointment_no_show(actor=setup["fitter"].user, appointment=appointment, note="  ")
    assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.SCHEDULED


def test_a_no_show_leaves_the_unit_to_book_again(setup):
    line = make_paid_order(lines=[(setup["oven"], 1, "899.00")]).lines.get()
    appointment = _in_the_past(_book(setup, line=line))
    with pytest.raises(RuleViolation, match="booked already"):
        _book(setup, "14:00", line=line)

    appointment_no_show(actor=setup["fitter"].user, appointment=appointment, note="Nobody home")
    again = _book(setup, "14:00", line=line)

    assert again.status == AppointmentStatus.SCHEDULED


# --- through the API --------------------------------------------------------------------------


def _post(client, url, data):
    return client.post(url, data, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid4()))


def test_staff_record_a_no_show_through_the_api(manager_client, setup):
    future = _book(setup, "14:00")
    past = _in_the_past(_book(setup))

    offered = manager_client.get(f"/api/v1/appointments/{past.pk}/").json()["allowed_transitions"]
    not_yet = manager_client.get(f"/api/v1/appointments/{future.pk}/").json()["allowed_transitions"]
    too_early = _post(manager_client, f"/api/v1/appointments/{future.pk}/no-show/", {"note": "Nobody home"})
    missing = _post(manager_client, f"/api/v1/appointments/{past.pk}/no-show/", {})
    done = _post(manager_client, f"/api/v1/appointments/{past.pk}/no-show/", {"note": "Nobody home"})
    again = _post(manager_client, f"/api/v1/appointments/{past.pk}/no-show/", {"note": "Nobody home"})

    assert "mark_no_show" in offered and "mark_no_show" not in not_yet
    assert too_early.status_code == 409 and too_early.json()["code"] == "too_early"
    assert missing.status_code == 400 and missing.json()["errors"][0]["field"] == "note"
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "no_show" and done.json()["allowed_transitions"] == []
    assert again.status_code == 409 and again.json()["code"] == "transition_not_allowed"
    assert again.json()["allowed"] == []
    assert Notification.objects.filter(event="appointment_no_show").count() == 1


def test_a_started_appointment_no_show_is_a_409_naming_the_allowed_ones(manager_client, setup):
    started = appointment_start(actor=None, appointment=_in_the_past(_book(setup)))

    response = _post(manager_client, f"/api/v1/appointments/{started.pk}/no-show/", {"note": "Left"})

    assert response.status_code == 409 and response.json()["allowed"] == ["complete"]


def test_customers_cannot_record_a_no_show(customer_app_client, setup):
    past = _in_the_past(_book(setup))

    staff_url = _post(customer_app_client, f"/api/v1/appointments/{past.pk}/no-show/", {"note": "x"})
    my_url = _post(customer_app_client, f"/api/v1/me/appointments/{past.pk}/no-show/", {"note": "x"})

    assert staff_url.status_code == 403 and staff_url["Content-Type"] == "application/problem+json"
    assert my_url.status_code in (404, 405)
    assert Appointment.objects.get(pk=past.pk).status == AppointmentStatus.SCHEDULED
    assert not Notification.objects.filter(event="appointment_no_show").exists()


def test_a_no_show_from_the_admin(client, admin_user, setup):
    past = _in_the_past(_book(setup))
    client.force_login(admin_user)
    selected = {"action": "no_show_appointment", "_selected_action": [past.pk]}

    client.post("/admin/installations/appointment/", selected)  # without saying what happened
    assert Appointment.objects.get(pk=past.pk).status == AppointmentStatus.SCHEDULED
    client.post("/admin/installations/appointment/", {**selected, "reason": "Nobody home"})

    assert Appointment.objects.get(pk=past.pk).status == AppointmentStatus.NO_SHOW
    assert Notification.objects.filter(event="appointment_no_show").count() == 1
