"""The installations admin: the catalogue and people's hours kept as data, appointments read and
cancelled through the service, their history read-only."""

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from core.models import Notification
from installations.choices import AppointmentStatus
from installations.models import Appointment, ServiceType, WorkingHours
from installations.services import appointment_book
from tests.factories import AssociateProfileFactory, LocationFactory, ProductFactory, make_paid_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def appointment():
    store = LocationFactory(time_zone="Europe/Amsterdam")
    service = ServiceType.objects.create(
        code="fit", name="Fitting", kind="assembly", place="store", duration_minutes=60
    )
    fitter = AssociateProfileFactory(home_location=store, user__roles=["associate"])
    for weekday in range(7):
        WorkingHours.objects.create(associate=fitter, weekday=weekday, starts=time(8), ends=time(18))
    start = datetime.combine(timezone.localdate() + timedelta(days=9), time(10), tzinfo=timezone.get_current_timezone())
    line = make_paid_order(lines=[(ProductFactory(), 1, "10.00")]).lines.get()
    return appointment_book(actor=None, order_line=line, service_type=service, associate=fitter, starts_at=start)


def test_a_manager_cancels_an_appointment_from_the_admin_and_the_customer_is_told(client, admin_user, appointment):
    client.force_login(admin_user)

    page = client.get(f"/admin/installations/appointment/{appointment.pk}/change/")
    without = {"action": "cancel_appointment", "_selected_action": [appointment.pk]}
    client.post("/admin/installations/appointment/", without)
    assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.SCHEDULED  # a reason is needed
    client.post("/admin/installations/appointment/", {**without, "reason": "Fitter ill"})

    assert page.status_code == 200 and appointment.number in page.content.decode()
    assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.CANCELLED
    assert "Fitter ill" in Notification.objects.get(event="appointment_cancelled").body


def test_working_hours_and_service_types_are_kept_in_the_admin(client, admin_user):
    client.force_login(admin_user)

    for url in (
        "/admin/installations/servicetype/add/",
        "/admin/installations/workinghours/",
        "/admin/installations/absence/",
    ):
        assert client.get(url).status_code == 200, url
