"""The day-before reminder: once per appointment, only for scheduled ones, in batches."""

from datetime import time, timedelta

import pytest
from django.utils import timezone

from core.models import Notification
from installations.models import Appointment, ServiceType, WorkingHours
from installations.services import appointment_book, appointment_cancel, appointments_remind
from tests.factories import AssociateProfileFactory, LocationFactory, ProductFactory, make_paid_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def booked():
    """Three store appointments next week, on Monday 10:00, 12:00 and 14:00 (Amsterdam)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    store = LocationFactory(time_zone="Europe/Amsterdam")
    service = ServiceType.objects.create(
        code="fit", name="Fitting", kind="assembly", place="store", duration_minutes=60
    )
    fitter = AssociateProfileFactory(home_location=store, user__roles=["associate"])
    for weekday in range(7):
        WorkingHours.objects.create(associate=fitter, weekday=weekday, starts=time(8), ends=time(18))
    today = timezone.localdate()
    monday = today + timedelta(days=7 - today.weekday() + 7)
    line = make_paid_order(lines=[(ProductFactory(), 3, "10.00")]).lines.get()
    return [
        appointment_book(
            actor=None,
            order_line=line,
            service_type=service,
            associate=fitter,
            starts_at=datetime.combine(monday, time(hour), tzinfo=ZoneInfo("Europe/Amsterdam")),
        )
        for hour in (10, 12, 14)
    ]


def test_each_customer_is_reminded_once_the_day_before(booked, monkeypatch):
    monkeypatch.setattr("installations.services.SWEEP_BATCH", 1)  # one per batch: the walk must go on
    first, second, third = booked
    cancelled = appointment_cancel(actor=None, appointment=third, reason="Changed plans")
    the_day_before = second.starts_at - timedelta(hours=23)  # both within the next 24 hours

    assert appointments_remind(now=the_day_before) == 2
    assert appointments_remind(now=the_day_before) == 0  # once
    reminded = Appointment.objects.filter(reminded_at__isnull=False)
    assert set(reminded.values_list("pk", flat=True)) == {first.pk, second.pk}
    assert Notification.objects.filter(event="appointment_reminder").count() == 2
    assert Appointment.objects.get(pk=cancelled.pk).reminded_at is None


def test_appointments_further_ahead_wait(booked):
    assert appointments_remind(now=booked[0].starts_at - timedelta(days=3)) == 0
