"""The installations pages: the week calendar of a store and of an associate, booking from it with
the free slots, today's jobs of the signed-in associate, and an appointment's page with its history
and actions, each write through the services and refused (with nothing written) where it should be."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.timezones import zone_or_utc
from installations.choices import AppointmentStatus
from installations.models import Alteration, AlterationKind, Appointment, TrainingCourse, TrainingSession, WorkingHours
from installations.selectors import free_slots
from installations.services import appointment_book, appointment_start
from installations.services_alterations import alteration_cancel, alteration_request
from installations.services_training import training_enrol
from tests.factories import (
    AssociateProfileFactory,
    CustomerAddressFactory,
    CustomerFactory,
    LocationFactory,
    ProductFactory,
    UserFactory,
    make_paid_order,
)

pytestmark = pytest.mark.django_db

ELSEWHERE = "Associates act on appointments of their home location only."


def morning_zone() -> str:
    """An IANA zone where it is now between 09:00 and 10:00, so that today still has a working day
    ahead whenever the tests run (Etc/GMT signs are inverted: Etc/GMT-5 is UTC+5)."""
    offset = (9 - timezone.now().astimezone(UTC).hour) % 24
    if offset > 14:
        offset -= 24
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"


def _next_monday() -> date:
    today = timezone.localdate()
    return today + timedelta(days=7 - today.weekday() + 7)


def _at(setup, day: date, hhmm: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=zone_or_utc(setup["store"].time_zone))


def _book(setup, starts_at, line=None):
    return appointment_book(
        actor=setup["fitter"].user,
        order_line=line or setup["line"],
        service_type=setup["service"],
        associate=setup["fitter"],
        starts_at=starts_at,
        address=setup["address"],
    )


def _session(setup, starts_at, capacity=8):
    course, _ = TrainingCourse.objects.get_or_create(code="steam", defaults={"name": "Cooking with steam"})
    return TrainingSession.objects.create(
        course=course,
        location=setup["store"],
        trainer=setup["fitter"],
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=1),
        capacity=capacity,
    )


def _alteration(setup, due_on, assigned=True):
    """A hemming order at the store, due on `due_on` (the service sets the due day from today)."""
    kind = AlterationKind.objects.filter(code="hem").first()
    if kind is None:
        fee = ProductFactory(
            sku="SVC-HEM", name="Hemming service", price=Decimal("15.00"), stocked=False, returnable=False
        )
        kind = AlterationKind.objects.create(
            code="hem", name="Hemming", turnaround_days=3, fee=Decimal("15.00"), service_product=fee
        )
    trousers = ProductFactory(name="Wide-leg trousers", alterable=True)
    order = make_paid_order(lines=[(trousers, 1, "79.95")], location=setup["store"])
    alteration = alteration_request(
        actor=setup["fitter"].user,
        order_line=order.lines.get(),
        kind=kind,
        location=setup["store"],
        specification="Hem 4 cm",
        assigned_to=setup["fitter"] if assigned else None,
    )
    Alteration.objects.filter(pk=alteration.pk).update(due_on=due_on)  # test data: any due day
    return alteration


@pytest.fixture
def fitter_client(client, setup):
    client.force_login(setup["fitter"].user)
    return client


@pytest.fixture
def today_setup(setup, settings):
    """The store where it is morning now, the fitter working every day, and bookings from now on."""
    setup["store"].time_zone = morning_zone()
    setup["store"].save(update_fields=["time_zone"])
    for weekday in (5, 6):
        WorkingHours.objects.create(associate=setup["fitter"], weekday=weekday, starts=time(9), ends=time(17))
    settings.APPOINTMENT_BOOKING_LEAD = timedelta(0)
    zone = zone_or_utc(setup["store"].time_zone)
    setup["today"] = timezone.localdate(timezone=zone)
    setup["slots"] = free_slots(
        service_type=setup["service"], location=setup["store"], date_from=setup["today"], date_to=setup["today"]
    )
    return setup


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]] if response.context else []


# --- who may -------------------------------------------------------------------------------------


PAGES = ["/installations/calendar/", "/installations/today/", "/installations/book/"]


@pytest.mark.parametrize("url", PAGES)
def test_signed_out_visitors_are_sent_to_sign_in(client, url):
    response = client.get(url)

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("who", ["customer", "roleless"])
def test_customers_and_users_without_a_role_are_refused(client, setup, who):
    appointment = _book(setup, _at(setup, _next_monday(), "10:00"))
    user = CustomerFactory(user=UserFactory()).user if who == "customer" else UserFactory()
    client.force_login(user)
    base = f"/installations/appointments/{appointment.number}/"

    for url in [*PAGES, base]:
        assert client.get(url).status_code == 403, url
    assert client.post(f"{base}start/").status_code == 403
    assert client.post(f"{base}cancel/", {f"cancel-{appointment.pk}-reason": "No"}).status_code == 403

    assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.SCHEDULED


def test_an_associate_of_another_store_reads_but_changes_nothing(client, setup):
    day = _next_monday()
    appointment = _book(setup, _at(setup, day, "10:00"))
    started = _book(setup, _at(setup, day, "14:00"))
    appointment_start(actor=setup["fitter"].user, appointment=started)
    elsewhere = AssociateProfileFactory(home_location=LocationFactory(name="Utrecht"), user__roles=["associate"])
    client.force_login(elsewhere.user)
    base = f"/installations/appointments/{appointment.number}/"

    page = client.get(base).content.decode()
    start = client.post(f"{base}start/", follow=True)
    cancel = client.post(f"{base}cancel/", {f"cancel-{appointment.pk}-reason": "Ill"}, follow=True)
    move = client.post(f"{base}reschedule/", {"starts_at": _at(setup, day, "13:00").isoformat()}, follow=True)
    complete = client.post(
        f"/installations/appointments/{started.number}/complete/",
        {f"complete-{started.pk}-signed_off_by": "Emma"},
        follow=True,
    )

    assert appointment.number in page and "Cancel the appointment" not in page and "Move to another time" not in page
    for response in (start, cancel, move, complete):
        assert ELSEWHERE in _messages(response)
    appointment = Appointment.objects.get(pk=appointment.pk)
    assert appointment.status == AppointmentStatus.SCHEDULED and appointment.starts_at == _at(setup, day, "10:00")
    assert Appointment.objects.get(pk=started.pk).status == AppointmentStatus.IN_PROGRESS


def test_an_associate_of_another_store_cannot_book_there(client, setup):
    day = _next_monday()
    elsewhere = AssociateProfileFactory(home_location=LocationFactory(name="Utrecht"), user__roles=["associate"])
    client.force_login(elsewhere.user)
    query = {"location": setup["store"].pk, "order": setup["line"].order.number}

    page = client.get("/installations/book/", query)
    booked = client.post(
        "/installations/book/",
        {
            **query,
            "offer": f"{setup['line'].pk}:{setup['service'].pk}",
            "date_from": day,
            "date_to": day,
            "slot": f"{setup['fitter'].pk}@{_at(setup, day, '10:00').isoformat()}",
            "address": setup["address"].pk,
        },
    )

    assert "Associates book the associates of their home location only." in _messages(page)
    assert "Find order" in page.content.decode() and "Product and service" not in page.content.decode()
    assert "Associates book the associates of their home location only." in _messages(booked)
    assert not Appointment.objects.exists()


# --- the calendar --------------------------------------------------------------------------------


def test_the_store_calendar_shows_the_weeks_appointments_sessions_and_alterations(fitter_client, setup):
    monday = _next_monday()
    appointment = _book(setup, _at(setup, monday, "10:00"))
    session = _session(setup, _at(setup, monday + timedelta(days=2), "18:00"), capacity=6)
    training_enrol(actor=setup["fitter"].user, session=session, customer=CustomerFactory())
    alteration = _alteration(setup, monday + timedelta(days=4))
    later = _book(setup, _at(setup, monday + timedelta(days=7), "10:00"))

    response = fitter_client.get("/installations/calendar/", {"week": monday + timedelta(days=3)})
    page = response.content.decode()

    days = response.context["days"]
    assert [day.date for day in days] == [monday + timedelta(days=offset) for offset in range(7)]
    assert days[0].appointments == [appointment] and days[2].sessions == [session]
    assert days[4].alterations == [alteration]
    assert f'href="/installations/appointments/{appointment.number}/"' in page
    assert "10:00–11:30" in page and "Oven installation" in page and appointment.customer.full_name in page
    assert f'/installations/training/{session.pk}/">Cooking with steam</a> · 1/6 seats' in page
    assert "18:00–19:00" in page
    assert alteration.number in page and "Hemming" in page
    assert later.number not in page
    assert "times in Europe/Amsterdam" in page
    assert f"week={(monday - timedelta(days=7)).isoformat()}" in page
    assert f"week={(monday + timedelta(days=7)).isoformat()}" in page
    assert f"/installations/book/?location={setup['store'].pk}&amp;date={monday.isoformat()}" in page


def test_the_associate_calendar_shows_their_own_entries_only(fitter_client, setup):
    monday = _next_monday()
    mine = _book(setup, _at(setup, monday, "10:00"))
    colleague = AssociateProfileFactory(home_location=setup["store"], user__roles=["associate"])
    colleague.skills.add(*setup["fitter"].skills.all())
    for weekday in range(5):
        WorkingHours.objects.create(associate=colleague, weekday=weekday, starts=time(9), ends=time(17))
    theirs = appointment_book(
        actor=setup["fitter"].user,
        order_line=setup["line"],
        service_type=setup["service"],
        associate=colleague,
        starts_at=_at(setup, monday, "10:00"),
        address=setup["address"],
    )

    store_page = fitter_client.get("/installations/calendar/", {"week": monday}).content.decode()
    own_page = fitter_client.get(
        "/installations/calendar/", {"associate": setup["fitter"].pk, "week": monday}
    ).content.decode()

    assert mine.number in store_page and theirs.number in store_page
    assert mine.number in own_page and theirs.number not in own_page


@pytest.mark.parametrize(
    "query",
    [
        {"week": "next tuesday", "location": "999999"},
        {"week": "9999-12-31"},
        {"week": "0001-01-01"},
        {"associate": "99999999999999999999999"},
        {"location": "²"},
    ],
)
def test_bad_calendar_input_shows_a_message_and_the_default_week(fitter_client, setup, query):
    response = fitter_client.get("/installations/calendar/", query)

    assert response.status_code == 200
    assert any("Showing the default calendar instead" in message for message in _messages(response))
    assert response.context["place"] == setup["store"]


def _calendar_entries(setup, monday, count):
    line = make_paid_order(lines=[(setup["oven"], count, "899.00")]).lines.get()
    for offset in range(count):
        day = monday + timedelta(days=offset)
        _book(setup, _at(setup, day, "10:00"), line=line)
        session = _session(setup, _at(setup, day, "18:00"))
        training_enrol(actor=setup["fitter"].user, session=session, customer=CustomerFactory())
        _alteration(setup, day)


def _queries(client, url, params) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, params).status_code == 200
    return len(queries)


def test_the_calendar_runs_as_many_queries_for_many_entries_as_for_one(
    fitter_client, setup, django_assert_max_num_queries
):
    monday, later = _next_monday(), _next_monday() + timedelta(days=7)
    _calendar_entries(setup, monday, 1)
    _calendar_entries(setup, later, 4)
    one = _queries(fitter_client, "/installations/calendar/", {"week": monday})

    with django_assert_max_num_queries(one):
        many = fitter_client.get("/installations/calendar/", {"week": later})
    with django_assert_max_num_queries(one):
        fitter_client.get("/installations/calendar/", {"week": later, "associate": setup["fitter"].pk})

    assert sum(len(day.appointments) + len(day.sessions) + len(day.alterations) for day in many.context["days"]) == 12


# --- today's jobs --------------------------------------------------------------------------------


def test_today_lists_the_associates_jobs_with_the_actions_their_state_allows(fitter_client, today_setup):
    setup, slots = today_setup, today_setup["slots"]
    first = _book(setup, slots[0].starts_at)
    second = _book(setup, slots[-1].starts_at)
    appointment_start(actor=setup["fitter"].user, appointment=second)
    session = _session(setup, slots[0].starts_at + timedelta(hours=3))
    overdue = _alteration(setup, setup["today"] - timedelta(days=1))
    due = _alteration(setup, setup["today"])
    _alteration(setup, setup["today"] + timedelta(days=1))  # not due yet
    alteration_cancel(actor=setup["fitter"].user, alteration=_alteration(setup, setup["today"]), reason="Changed mind")

    response = fitter_client.get("/installations/today/")
    page = response.content.decode()

    assert [row[0] for row in response.context["rows"]] == [first, second]
    assert "2 Canal Street" in page and "Steam oven" in page
    assert f"/installations/appointments/{first.number}/start/" in page
    assert f"/installations/appointments/{first.number}/cancel/" in page
    assert f"/installations/appointments/{first.number}/#reschedule" in page
    assert f"/installations/appointments/{second.number}/complete/" in page
    assert f"/installations/appointments/{second.number}/start/" not in page
    assert response.context["jobs"].sessions == [session] and "Cooking with steam" in page
    assert response.context["jobs"].alterations == [overdue, due] and "overdue" in page
    assert f"times in {setup['store'].time_zone}" in page


def test_start_then_complete_from_today_with_the_checklist(fitter_client, today_setup):
    appointment = _book(today_setup, today_setup["slots"][0].starts_at)
    base = f"/installations/appointments/{appointment.number}/"

    started = fitter_client.post(f"{base}start/", {"back": "today"})
    prefix = f"complete-{appointment.pk}"
    completed = fitter_client.post(
        f"{base}complete/",
        {
            "back": "today",
            f"{prefix}-item_1": "Oven level",
            f"{prefix}-done_1": "on",
            f"{prefix}-item_2": "Door seal",
            f"{prefix}-notes": "Customer shown the steam program",
            f"{prefix}-signed_off_by": "Emma de Vries",
        },
        follow=True,
    )

    assert started.status_code == 302 and started["Location"] == "/installations/today/"
    assert f"{appointment.number} completed, signed off by Emma de Vries." in _messages(completed)
    appointment = Appointment.objects.get(pk=appointment.pk)
    assert appointment.status == AppointmentStatus.COMPLETED
    assert appointment.checklist == [{"item": "Oven level", "done": True}, {"item": "Door seal", "done": False}]
    assert appointment.signed_off_by == "Emma de Vries" and appointment.notes == "Customer shown the steam program"


def test_completing_without_a_sign_off_shows_a_message_and_records_nothing(fitter_client, today_setup):
    appointment = _book(today_setup, today_setup["slots"][0].starts_at)
    appointment_start(actor=today_setup["fitter"].user, appointment=appointment)

    response = fitter_client.post(
        f"/installations/appointments/{appointment.number}/complete/",
        {f"complete-{appointment.pk}-item_1": "x" * 201},
        follow=True,
    )

    [message] = _messages(response)
    assert "Nothing was recorded" in message and "Say who signed the work off." in message
    assert "Checklist item 1" in message
    assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.IN_PROGRESS


def test_today_runs_as_many_queries_for_many_jobs_as_for_one(client, today_setup, django_assert_max_num_queries):
    setup, slots = today_setup, today_setup["slots"]
    _book(setup, slots[0].starts_at)
    _session(setup, slots[0].starts_at)
    _alteration(setup, setup["today"])
    client.force_login(setup["fitter"].user)
    one = _queries(client, "/installations/today/", {})
    second = appointment_book(
        actor=setup["fitter"].user,
        order_line=setup["line"],
        service_type=setup["service"],
        associate=setup["fitter"],
        starts_at=slots[-1].starts_at,
        address=setup["address"],
    )
    appointment_start(actor=setup["fitter"].user, appointment=second)
    _book(setup, slots[len(slots) // 2].starts_at)
    for hours in (2, 4):
        _session(setup, slots[0].starts_at + timedelta(hours=hours))
        _alteration(setup, setup["today"] - timedelta(days=hours))

    with django_assert_max_num_queries(one):
        response = client.get("/installations/today/")

    assert len(response.context["rows"]) == 3 and len(response.context["jobs"].alterations) == 3


def test_a_user_without_an_associate_profile_is_told_they_have_no_jobs(client, setup):
    client.force_login(UserFactory(roles=["manager"]))

    response = client.get("/installations/today/")

    assert response.status_code == 200 and "You have no associate profile" in " ".join(_messages(response))


# --- the appointment page ------------------------------------------------------------------------


def test_the_appointment_page_offers_the_associates_free_times_and_moves_it(fitter_client, setup):
    monday = _next_monday()
    appointment = _book(setup, _at(setup, monday, "10:00"))
    url = f"/installations/appointments/{appointment.number}/"

    page = fitter_client.get(url, {"since": monday, "until": monday}).content.decode()
    moved = fitter_client.post(f"{url}reschedule/", {"starts_at": _at(setup, monday, "13:00").isoformat()}, follow=True)

    assert "Oven installation" in page and "Steam oven" in page and "2 Canal Street" in page
    assert f"({setup['store'].time_zone})" in page
    assert f'value="{_at(setup, monday, "13:00").astimezone(UTC).isoformat()}"' in page
    assert f'value="{_at(setup, monday, "10:00").astimezone(UTC).isoformat()}"' not in page  # its own time
    assert any("moved to" in message and "13:00" in message for message in _messages(moved))
    assert Appointment.objects.get(pk=appointment.pk).starts_at == _at(setup, monday, "13:00")


@pytest.mark.parametrize(
    "starts_at",
    ["", "tomorrow", "2030-01-07T10:00:00", "2030-01-07T10:00:00+01:00\x00", "9999-12-31T23:59:59-23:59"],
)
def test_a_bad_new_time_shows_a_message_and_moves_nothing(fitter_client, setup, starts_at):
    appointment = _book(setup, _at(setup, _next_monday(), "10:00"))

    response = fitter_client.post(
        f"/installations/appointments/{appointment.number}/reschedule/", {"starts_at": starts_at}, follow=True
    )

    assert any("Nothing was changed" in message for message in _messages(response))
    assert Appointment.objects.get(pk=appointment.pk).starts_at == appointment.starts_at


def test_a_time_that_is_not_free_is_refused_with_the_services_message(fitter_client, setup):
    monday = _next_monday()
    appointment = _book(setup, _at(setup, monday, "10:00"))
    _book(setup, _at(setup, monday, "14:00"))

    response = fitter_client.post(
        f"/installations/appointments/{appointment.number}/reschedule/",
        {"starts_at": _at(setup, monday, "14:30").isoformat()},
        follow=True,
    )

    assert "That time is not free (any more); here are the next free ones." in _messages(response)
    assert Appointment.objects.get(pk=appointment.pk).starts_at == _at(setup, monday, "10:00")


def test_cancelling_needs_a_reason_and_the_history_shows_each_change(fitter_client, setup):
    monday = _next_monday()
    appointment = _book(setup, _at(setup, monday, "10:00"))
    url = f"/installations/appointments/{appointment.number}/"
    fitter_client.post(f"{url}reschedule/", {"starts_at": _at(setup, monday, "13:00").isoformat()})

    refused = fitter_client.post(f"{url}cancel/", {f"cancel-{appointment.pk}-reason": "  "}, follow=True)
    assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.SCHEDULED
    cancelled = fitter_client.post(f"{url}cancel/", {f"cancel-{appointment.pk}-reason": "Oven not delivered"})
    page = fitter_client.get(url)

    assert any("Say why the appointment is cancelled." in message for message in _messages(refused))
    assert cancelled.status_code == 302 and cancelled["Location"] == url
    assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.CANCELLED
    assert [change.what for change in page.context["history"]] == ["Booked", "Moved", "Cancelled: Oven not delivered"]
    assert "Cancelled: Oven not delivered" in page.content.decode()
    assert page.context["actions"] == {}


def test_an_unknown_appointment_is_not_found(fitter_client, setup):
    assert fitter_client.get("/installations/appointments/ANOPE/").status_code == 404
    assert fitter_client.post("/installations/appointments/ANOPE/start/").status_code == 404


# --- booking -------------------------------------------------------------------------------------


def _booking(setup, day, hhmm="10:00", **overrides):
    return {
        "location": setup["store"].pk,
        "order": setup["line"].order.number,
        "offer": f"{setup['line'].pk}:{setup['service'].pk}",
        "date_from": day,
        "date_to": day + timedelta(days=1),
        "slot": f"{setup['fitter'].pk}@{_at(setup, day, hhmm).astimezone(UTC).isoformat()}",
        "address": setup["address"].pk,
        **overrides,
    }


def test_booking_from_the_calendar_finds_the_order_offers_its_services_and_free_times(fitter_client, setup):
    monday = _next_monday()
    order = setup["line"].order
    ProductFactory(name="Sofa")  # no service covers it: not offered

    start = fitter_client.get("/installations/book/", {"location": setup["store"].pk, "date": monday})
    found = fitter_client.get(
        "/installations/book/", {"location": setup["store"].pk, "date": monday, "order": order.number.lower()}
    )
    slots = fitter_client.get(
        "/installations/book/",
        {
            "location": setup["store"].pk,
            "order": order.number,
            "offer": f"{setup['line'].pk}:{setup['service'].pk}",
            "date_from": monday,
            "date_to": monday + timedelta(days=1),
        },
    )
    page = slots.content.decode()

    assert "Find order" in start.content.decode()
    assert [(offer.line, offer.service_type) for offer in found.context["offers"]] == [
        (setup["line"], setup["service"])
    ]
    assert "Steam oven: Oven installation" in found.content.decode()
    assert found.context["date_from"] == monday and found.context["date_to"] == monday + timedelta(days=6)
    assert [day.date for day in slots.context["slot_days"]] == [monday, monday + timedelta(days=1)]
    assert f"{setup['fitter'].pk}@{_at(setup, monday, '09:30').astimezone(UTC).isoformat()}" in page
    assert setup["address"].line1 in page and "Address of the visit" in page


def test_booking_a_free_time_books_it_and_shows_the_appointment(fitter_client, setup):
    monday = _next_monday()

    response = fitter_client.post("/installations/book/", _booking(setup, monday), follow=True)

    appointment = Appointment.objects.get()
    assert response.redirect_chain[-1][0] == f"/installations/appointments/{appointment.number}/"
    assert appointment.starts_at == _at(setup, monday, "10:00") and appointment.associate == setup["fitter"]
    assert appointment.address_line1 == setup["address"].line1 and appointment.booked_by == setup["fitter"].user
    assert any(f"{appointment.number}; the customer has been told" in message for message in _messages(response))


def test_a_time_taken_meanwhile_shows_the_conflict_and_the_next_free_times(fitter_client, setup):
    monday = _next_monday()
    taken = _book(setup, _at(setup, monday, "10:00"))

    response = fitter_client.post("/installations/book/", _booking(setup, monday, "10:30"))

    assert response.status_code == 409
    assert "That time is not free (any more); here are the next free ones." in _messages(response)
    offered = [
        slot.starts_at for day in response.context["slot_days"] for _, _, slots in day.associates for slot in slots
    ]
    assert offered[0] == _at(setup, monday, "12:30") and len(offered) == 5
    assert "Book" in response.content.decode()
    assert list(Appointment.objects.all()) == [taken]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"slot": ""}, "Choose one of the free times."),
        ({"slot": "1@yesterday"}, "Choose one of the free times offered."),
        ({"slot": "999999@2030-01-07T10:00:00+00:00"}, "Choose one of the free times offered."),
        ({"slot": "²@2030-01-07T10:00:00+00:00"}, "Choose one of the free times offered."),
        ({"slot": "1@0001-01-01T00:00:00+01:00"}, "Choose one of the free times offered."),
        ({"date_from": "9999-12-31", "date_to": "9999-12-31"}, "Choose a day between 1970 and 9000."),
        ({"offer": "1:2\n"}, "Product and service"),
        ({"offer": ""}, "Choose the product and the service."),
        ({"offer": "1:2:3"}, "Product and service"),
        ({"order": "ONOPE"}, "Find the order and choose the product and service again."),
        ({"date_to": "2000-01-01"}, "Choose 1 to 31 days"),
        ({"address": ""}, "A home visit needs the address."),
    ],
)
def test_bad_booking_input_shows_a_message_and_books_nothing(fitter_client, setup, overrides, expected):
    response = fitter_client.post("/installations/book/", _booking(setup, _next_monday(), **overrides))

    assert response.status_code in (200, 422)
    assert any(expected in message for message in _messages(response)), _messages(response)
    assert not Appointment.objects.exists()


def test_another_customers_address_is_refused(fitter_client, setup):
    stranger = CustomerAddressFactory(customer=CustomerFactory(), line1="9 Other Street")

    response = fitter_client.post("/installations/book/", _booking(setup, _next_monday(), address=stranger.pk))

    assert "Nothing was booked. Choose one of the customer's addresses." in _messages(response)
    assert not Appointment.objects.exists()


def test_an_unknown_order_is_said_so(fitter_client, setup):
    response = fitter_client.get("/installations/book/", {"order": "onope"})

    assert "No order ONOPE." in _messages(response)


def test_far_off_days_on_the_book_page_offer_nothing_rather_than_fail(fitter_client, setup):
    query = {"order": setup["line"].order.number, "offer": f"{setup['line'].pk}:{setup['service'].pk}"}

    response = fitter_client.get("/installations/book/", {**query, "date": "9000-12-31"})

    assert response.status_code == 200 and response.context["slot_days"] == []
    assert "No free times in these days" in response.content.decode()


def test_a_manager_acts_on_appointments_of_any_store(client, setup, manager):
    appointment = _book(setup, _at(setup, _next_monday(), "10:00"))
    client.force_login(manager)

    response = client.post(f"/installations/appointments/{appointment.number}/start/", follow=True)

    assert f"{appointment.number} started." in _messages(response)
    assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.IN_PROGRESS
