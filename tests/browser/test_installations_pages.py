"""The installations pages in Chromium, as a fitter works them: from the store's week calendar to
Book, find the customer's order, pick a free time today and book a home visit; move it to a later
time from its page; then, on today's jobs, start the work and complete it with a sign-off.

The store is put in a time zone where it is morning now (and bookings may start straight away),
so that "today" always has working hours left, whenever the test runs."""

import re
from datetime import time, timedelta

import pytest
from django.utils import timezone

from core.models import Notification, Skill
from core.timezones import zone_or_utc
from installations.choices import AppointmentStatus
from installations.models import Appointment, ServiceType, TrainingCourse, TrainingSession, WorkingHours
from installations.selectors import free_slots
from installations.services_training import training_enrol
from tests.browser.test_pages import sign_in
from tests.factories import CategoryFactory, CustomerAddressFactory, CustomerFactory, ProductFactory, make_paid_order
from tests.installations.test_pages import morning_zone

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips (or, with REQUIRE_BROWSER=1, fails) and says why
    expect = None

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _day(moment) -> str:
    return f"{moment:%A} {moment.day} {moment:%B}"


def test_associate_books_moves_starts_and_completes_an_installation(
    page, page_errors, associate_user, settings, screenshot
):
    settings.APPOINTMENT_BOOKING_LEAD = timedelta(0)
    fitter = associate_user.associate
    store = fitter.home_location
    store.time_zone = morning_zone()
    store.save(update_fields=["time_zone"])
    zone = zone_or_utc(store.time_zone)
    wiring = Skill.objects.create(code="wiring", name="Electrical wiring")
    fitter.skills.add(wiring)
    for weekday in range(7):
        WorkingHours.objects.create(associate=fitter, weekday=weekday, starts=time(9), ends=time(17))
    appliances = CategoryFactory(slug="appliances", name="Appliances")
    service = ServiceType.objects.create(
        code="oven",
        name="Oven installation",
        kind="installation",
        category=appliances,
        duration_minutes=60,
        travel_buffer_minutes=30,
    )
    service.skills.add(wiring)
    customer = CustomerFactory(given_name="Emma", family_name="de Vries")
    CustomerAddressFactory(customer=customer, line1="Keizersgracht 12", postcode="1015 CS")
    order = make_paid_order(
        customer=customer, lines=[(ProductFactory(category=appliances, name="Steam oven"), 1, "899")]
    )
    today = timezone.localdate(timezone=zone)
    offered = free_slots(service_type=service, location=store, date_from=today, date_to=today)
    chosen = offered[1]  # not the first: it may be gone by the time the form is sent
    chosen_at = timezone.localtime(chosen.starts_at, zone)

    # The store's calendar, then Book on today.
    sign_in(page, associate_user.email)
    page.get_by_role("link", name="Installations").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Amsterdam Centraal store")
    expect(page.locator("main")).to_contain_text(f"times in {store.time_zone}")
    screenshot(page, "calendar")
    page.get_by_role("link", name=f"Book on {_day(chosen_at)}").click()

    page.get_by_label("Order number").fill(order.number.lower())
    page.get_by_role("button", name="Find order").click()
    expect(page.get_by_role("heading", name=re.compile(f"Order {order.number}"))).to_contain_text("Emma de Vries")
    screenshot(page, "order")
    expect(page.get_by_label("Steam oven: Oven installation")).to_be_checked()
    page.get_by_role("button", name="Show free times").click()
    screenshot(page, "free-times")

    page.get_by_label(f"{_day(chosen_at)} {chosen_at:%H:%M} with Noor Visser").check()
    expect(page.get_by_label("Address of the visit")).to_contain_text("Keizersgracht 12")
    page.get_by_role("button", name="Book").click()

    expect(page).to_have_url(re.compile(r"/installations/appointments/\w+/$"))
    appointment = Appointment.objects.get()
    expect(page).to_have_url(re.compile(rf"/installations/appointments/{appointment.number}/$"))
    expect(page.locator(".messages")).to_contain_text(f"Oven installation booked for {_day(chosen_at)}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Scheduled")
    expect(page.locator("section.record")).to_contain_text("Keizersgracht 12, 1015 CS Amsterdam")
    expect(page.locator("section.record")).to_contain_text(f"{chosen_at:%H:%M}–")
    assert appointment.starts_at == chosen.starts_at and appointment.associate == fitter
    assert appointment.status == AppointmentStatus.SCHEDULED and appointment.address_line1 == "Keizersgracht 12"
    assert appointment.booked_by == associate_user

    # Move it to the fitter's last free time today, from its page.
    later = free_slots(
        service_type=service,
        location=store,
        date_from=today,
        date_to=today,
        associate_ids=[fitter.pk],
        ignoring=appointment.pk,
    )[-1]
    later_at, later_end = timezone.localtime(later.starts_at, zone), timezone.localtime(later.ends_at, zone)
    page.get_by_label("New time").select_option(
        label=f"{later_at:%a} {later_at.day} {later_at:%b %H:%M}–{later_end:%H:%M}"
    )
    page.get_by_role("button", name="Move").click()
    expect(page.locator(".messages")).to_contain_text(f"{appointment.number} moved to")
    expect(page.get_by_role("table", name="History")).to_contain_text("Moved")
    expect(page.locator("section.record")).to_contain_text(f"{later_at:%H:%M}–{later_end:%H:%M}")
    screenshot(page, "moved")
    appointment = Appointment.objects.get(pk=appointment.pk)
    assert appointment.starts_at == later.starts_at and appointment.status == AppointmentStatus.SCHEDULED

    page.get_by_role("link", name="Installations").click()
    expect(page.get_by_role("row", name=_day(later_at))).to_contain_text(
        f"{later_at:%H:%M}–{later_end:%H:%M} {appointment.number} Oven installation · Emma de Vries"
    )

    # Today's jobs: start, then complete with the checklist and the customer's sign-off.
    page.get_by_role("link", name="My jobs").click()
    job = page.get_by_role("region", name=appointment.number)
    expect(job).to_contain_text("Keizersgracht 12")
    expect(job).to_contain_text("Steam oven")
    expect(job).to_contain_text(f"{later_at:%H:%M}–{later_end:%H:%M}")
    job.get_by_role("button", name="Start").click()
    expect(page.locator(".messages")).to_contain_text(f"{appointment.number} started.")
    expect(job).to_contain_text("In progress")
    assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.IN_PROGRESS

    job.get_by_label("Checklist item 1").fill("Oven level and fixed")
    job.get_by_label("Item 1 done").check()
    job.get_by_label("Checklist item 2").fill("Steam program shown")
    job.get_by_label("Notes").fill("Old oven taken away")
    job.get_by_label("Signed off by").fill("Emma de Vries")
    screenshot(page, "complete")
    job.get_by_role("button", name="Complete").click()
    expect(page.locator(".messages")).to_contain_text(f"{appointment.number} completed, signed off by Emma de Vries.")
    expect(job).to_contain_text("Completed")
    expect(job.get_by_role("button", name="Complete")).to_have_count(0)

    appointment = Appointment.objects.get(pk=appointment.pk)
    assert appointment.status == AppointmentStatus.COMPLETED and appointment.signed_off_by == "Emma de Vries"
    assert appointment.checklist == [
        {"item": "Oven level and fixed", "done": True},
        {"item": "Steam program shown", "done": False},
    ]
    assert appointment.notes == "Old oven taken away" and appointment.completed_at is not None
    assert page_errors == []


def test_associate_enrols_moves_and_calls_off_a_training_session(page, page_errors, associate_user, screenshot):
    store = associate_user.associate.home_location
    zone = zone_or_utc(store.time_zone)
    start = (timezone.now() + timedelta(days=2)).astimezone(zone).replace(hour=18, minute=0, second=0, microsecond=0)
    course = TrainingCourse.objects.create(code="steam", name="Cooking with steam")
    session = TrainingSession.objects.create(
        course=course, location=store, starts_at=start, ends_at=start + timedelta(hours=2), capacity=1
    )
    seated = CustomerFactory(given_name="Emma", family_name="de Vries")
    training_enrol(actor=None, session=session, customer=seated)
    waiting = CustomerFactory(given_name="Sanne", family_name="Bakker")

    # From the store's calendar to the session.
    sign_in(page, associate_user.email)
    page.goto(f"/installations/calendar/?week={start:%Y-%m-%d}")
    page.get_by_role("link", name="Cooking with steam").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Cooking with steam")
    expect(page.get_by_role("table", name="Seated")).to_contain_text("Emma de Vries")

    # One seat, taken: the next customer goes on the waiting list.
    page.get_by_label("Customer number").fill(waiting.number)
    page.get_by_role("button", name="Enrol").click()
    expect(page.locator(".messages")).to_contain_text("Sanne Bakker has a place on the waiting list")
    expect(page.get_by_role("table", name="Waiting list")).to_contain_text("Sanne Bakker")

    # A second seat and an hour later: Sanne moves up, both are told.
    page.get_by_label("From").fill("19:00")
    page.get_by_label("Until").fill("21:00")
    page.get_by_label("Seats").fill("2")
    page.get_by_label("Reason", exact=True).fill("a bigger room in the evening")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".messages")).to_contain_text("told the new time")
    expect(page.get_by_role("table", name="Seated")).to_contain_text("Sanne Bakker")
    expect(page.locator("section.record")).to_contain_text("19:00–21:00")
    screenshot(page, "training-session")

    page.get_by_label("Reason to call it off").fill("The trainer is ill")
    page.get_by_role("button", name="Call the session off").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Cancelled")
    assert TrainingSession.objects.get(pk=session.pk).status == "cancelled"
    told = set(Notification.objects.filter(event="training_session_cancelled").values_list("customer_id", flat=True))
    assert told == {seated.pk, waiting.pk}
    assert page_errors == []
