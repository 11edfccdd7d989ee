"""The appointments API as the apps call it: free slots, booking as the customer's app and as
staff (a taken slot is a 409 with the next free ones), moves, the work started and signed off,
cancellations; who may call what (an associate changes appointments of their own store only, a
denied call leaves nothing behind), bad input never a 500, and a fixed number of queries."""

import json
from datetime import date, datetime, time, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from core.choices import Channel, TouchpointKind
from core.models import Notification, Touchpoint
from installations.choices import AppointmentStatus
from installations.models import Appointment, WorkingHours
from installations.services import appointment_book, appointment_start
from tests.factories import AssociateProfileFactory, CustomerAddressFactory, CustomerFactory, make_paid_order

pytestmark = pytest.mark.django_db

AMS = ZoneInfo("Europe/Amsterdam")
ROLES = ["anon", "roleless", "customer", "associate", "agent", "manager", "admin", "fitter"]
STAFF = {"associate", "agent", "manager", "admin", "fitter"}
AT_THE_STORE = {"fitter", "manager", "admin"}  # the fitter's store; managers and admins anywhere


def _next_monday() -> date:
    today = timezone.localdate()
    return today + timedelta(days=7 - today.weekday() + 7)  # a Monday at least a week ahead


MONDAY = _next_monday()


def _at(hhmm: str, day: date = MONDAY) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=AMS)


def _local(text: str) -> str:
    return datetime.fromisoformat(text).astimezone(AMS).strftime("%H:%M")


def _post(client, url, data=None):
    return client.post(url, data, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid4()))


def _client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def fitter_client(setup):
    return _client_for(setup["fitter"].user)


@pytest.fixture
def mine(setup, customer):
    """The signed-in customer's own steam oven and home address."""
    order = make_paid_order(customer=customer, lines=[(setup["oven"], 1, "899.00")])
    return {"line": order.lines.get(), "address": CustomerAddressFactory(customer=customer)}


def _book_body(setup, line, address, at="10:00"):
    return {
        "order_line": line.pk,
        "service_type": setup["service"].pk,
        "associate": setup["fitter"].pk,
        "starts_at": _at(at).isoformat(),
        "address": address.pk,
    }


def _booked(setup, line=None, at="10:00", address=None):
    return appointment_book(
        actor=setup["fitter"].user,
        order_line=line or setup["line"],
        service_type=setup["service"],
        associate=setup["fitter"],
        starts_at=_at(at),
        address=address or setup["address"],
    )


def _availability(setup, date_from=MONDAY, date_to=MONDAY):
    return {
        "service_type": setup["service"].pk,
        "location": setup["store"].pk,
        "date_from": str(date_from),
        "date_to": str(date_to),
    }


# --- the customer's app -----------------------------------------------------------------------


def test_a_customer_finds_a_free_slot_and_books_their_oven_in_the_app(customer_app_client, setup, mine):
    slots = customer_app_client.get("/api/v1/appointments/availability/", _availability(setup))
    assert slots.status_code == 200, slots.content
    first = slots.json()[0]
    assert first["associate"] == {"id": setup["fitter"].pk, "name": setup["fitter"].user.get_full_name()}
    assert _local(first["starts_at"]) == "09:30" and _local(first["ends_at"]) == "11:00"

    response = _post(
        customer_app_client,
        "/api/v1/me/appointments/",
        {**_book_body(setup, mine["line"], mine["address"]), "starts_at": first["starts_at"]},
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "scheduled" and body["number"].startswith("A")
    assert body["product"]["name"] == "Steam oven" and body["order_number"] == mine["line"].order.number
    assert body["address"]["city"] == mine["address"].city
    assert body["allowed_transitions"] == ["reschedule", "cancel"]
    assert "customer" not in body and "notes" not in body
    assert response["Location"].endswith(f"/api/v1/me/appointments/{body['id']}/")
    listed = customer_app_client.get("/api/v1/me/appointments/").json()["results"]
    assert [row["id"] for row in listed] == [body["id"]]
    assert customer_app_client.get(f"/api/v1/me/appointments/{body['id']}/").json()["number"] == body["number"]
    assert Touchpoint.objects.get(kind=TouchpointKind.INSTALLATION, subject_id=body["id"]).channel == Channel.APP
    assert Notification.objects.filter(event="appointment_booked").count() == 1


def test_a_customer_moves_and_cancels_their_own_appointment(customer_app_client, setup, mine):
    appointment = _booked(setup, line=mine["line"], address=mine["address"])
    url = f"/api/v1/me/appointments/{appointment.pk}"

    moved = _post(customer_app_client, f"{url}/reschedule/", {"starts_at": _at("14:00").isoformat()})
    cancelled = _post(customer_app_client, f"{url}/cancel/", {"reason": "Oven not delivered yet"})

    assert moved.status_code == 200, moved.content
    assert _local(moved.json()["starts_at"]) == "14:00"
    assert cancelled.status_code == 200, cancelled.content
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["allowed_transitions"] == []


def test_a_customer_neither_sees_nor_changes_another_customers_appointment(customer_app_client, setup, mine):
    theirs = _booked(setup)  # setup's line belongs to another customer
    own = _booked(setup, line=mine["line"], address=mine["address"], at="14:00")
    url = f"/api/v1/me/appointments/{theirs.pk}"

    assert customer_app_client.get(f"{url}/").status_code == 404
    assert _post(customer_app_client, f"{url}/cancel/", {"reason": "x"}).status_code == 404
    assert _post(customer_app_client, f"{url}/reschedule/", {"starts_at": _at("12:30").isoformat()}).status_code == 404
    listed = customer_app_client.get("/api/v1/me/appointments/").json()["results"]
    assert [row["id"] for row in listed] == [own.pk]
    assert Appointment.objects.get(pk=theirs.pk).status == AppointmentStatus.SCHEDULED


def test_a_customer_cannot_book_another_customers_order_line_or_address(customer_app_client, setup, mine):
    other_line = _post(
        customer_app_client, "/api/v1/me/appointments/", _book_body(setup, setup["line"], setup["address"])
    )
    other_address = _post(
        customer_app_client, "/api/v1/me/appointments/", _book_body(setup, mine["line"], setup["address"])
    )

    assert other_line.status_code == 400 and other_line.json()["errors"][0]["field"] == "order_line"
    assert other_address.status_code == 400 and other_address.json()["errors"][0]["field"] == "address"
    assert not Appointment.objects.exists()


# --- staff ------------------------------------------------------------------------------------


def test_the_whole_visit_through_the_staff_api(fitter_client, setup):
    created = _post(fitter_client, "/api/v1/appointments/", _book_body(setup, setup["line"], setup["address"]))
    assert created.status_code == 201, created.content
    body = created.json()
    url = f"/api/v1/appointments/{body['id']}"

    detail = fitter_client.get(f"{url}/").json()
    started = _post(fitter_client, f"{url}/start/", {})
    completed = _post(
        fitter_client,
        f"{url}/complete/",
        {
            "checklist": [{"item": "Oven level and fixed", "done": True}, {"item": "Old oven taken", "done": False}],
            "notes": "Customer keeps the old oven",
            "signed_off_by": "Emma de Vries",
        },
    )

    assert detail["service_type"]["name"] == "Oven installation" and detail["service_type"]["place"] == "home"
    assert detail["associate"]["name"] == setup["fitter"].user.get_full_name()
    assert detail["customer"]["number"] == setup["line"].order.customer.number
    assert detail["product"]["name"] == "Steam oven" and detail["order_number"] == setup["line"].order.number
    assert detail["address"]["postcode"] == setup["address"].postcode
    assert detail["location"]["id"] == setup["store"].pk
    assert _local(detail["starts_at"]) == "10:00" and _local(detail["ends_at"]) == "11:30"
    assert sorted(detail["allowed_transitions"]) == ["cancel", "reschedule", "start"]  # no-show: after its start
    assert started.status_code == 200 and started.json()["status"] == "in_progress"
    assert started.json()["allowed_transitions"] == ["complete"]
    assert completed.status_code == 200, completed.content
    done = completed.json()
    assert done["status"] == "completed" and done["signed_off_by"] == "Emma de Vries"
    assert done["checklist"][1] == {"item": "Old oven taken", "done": False}
    assert done["completed_at"] and done["allowed_transitions"] == []
    touchpoints = Touchpoint.objects.filter(kind=TouchpointKind.INSTALLATION, subject_id=body["id"])
    assert {t.channel for t in touchpoints} == {Channel.STORE} and touchpoints.count() == 3


def test_a_taken_slot_is_a_409_offering_the_next_free_slots(fitter_client, setup):
    _booked(setup, at="10:00")
    other = make_paid_order(customer=setup["line"].order.customer, lines=[(setup["oven"], 1, "899.00")]).lines.get()

    response = _post(fitter_client, "/api/v1/appointments/", _book_body(setup, other, setup["address"], at="11:00"))

    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "slot_taken"
    assert _local(body["next_slots"][0]["starts_at"]) == "12:30"  # after the 10:00 job and two journeys
    assert body["next_slots"][0]["associate"] == setup["fitter"].pk
    assert Appointment.objects.count() == 1


def test_a_home_visit_needs_one_of_the_customers_addresses(fitter_client, setup):
    body = _book_body(setup, setup["line"], setup["address"])
    del body["address"]

    without = _post(fitter_client, "/api/v1/appointments/", body)
    elsewhere = _post(fitter_client, "/api/v1/appointments/", {**body, "address": CustomerAddressFactory().pk})

    assert without.status_code == 422 and without.json()["code"] == "address_required"
    assert elsewhere.status_code == 400 and elsewhere.json()["errors"][0]["field"] == "address"
    assert not Appointment.objects.exists()


def test_staff_move_an_appointment_to_another_free_slot_only(fitter_client, setup):
    first = _booked(setup, at="10:00")
    second = _booked(
        setup,
        line=make_paid_order(customer=setup["line"].order.customer, lines=[(setup["oven"], 1, "1.00")]).lines.get(),
        at="14:00",
    )

    moved = _post(
        fitter_client, f"/api/v1/appointments/{first.pk}/reschedule/", {"starts_at": _at("11:00").isoformat()}
    )
    clash = _post(
        fitter_client, f"/api/v1/appointments/{second.pk}/reschedule/", {"starts_at": _at("12:00").isoformat()}
    )

    assert moved.status_code == 200 and _local(moved.json()["starts_at"]) == "11:00"
    assert clash.status_code == 409 and clash.json()["code"] == "slot_taken"
    assert Appointment.objects.get(pk=second.pk).starts_at == _at("14:00")


def test_illegal_transitions_are_409s_naming_the_allowed_ones(manager_client, setup):
    appointment = _booked(setup)
    url = f"/api/v1/appointments/{appointment.pk}"

    too_soon = _post(manager_client, f"{url}/complete/", {"signed_off_by": "Emma"})
    appointment_start(actor=None, appointment=appointment)
    again = _post(manager_client, f"{url}/start/", {})
    not_movable = _post(manager_client, f"{url}/reschedule/", {"starts_at": _at("14:00").isoformat()})
    not_cancellable = _post(manager_client, f"{url}/cancel/", {"reason": "Changed my mind"})

    assert too_soon.status_code == 409 and too_soon.json()["code"] == "transition_not_allowed"
    assert sorted(too_soon.json()["allowed"]) == ["cancel", "mark_no_show", "start"]
    assert again.status_code == 409 and again.json()["allowed"] == ["complete"]
    assert not_movable.status_code == 409 and not_movable.json()["code"] == "not_movable"
    assert not_cancellable.status_code == 409 and not_cancellable.json()["allowed"] == ["complete"]
    assert Appointment.objects.get(pk=appointment.pk).status == AppointmentStatus.IN_PROGRESS


def test_the_list_filters_by_associate_location_status_customer_and_time(manager_client, setup):
    morning = _booked(setup, at="10:00")
    customer = setup["line"].order.customer
    line = make_paid_order(customer=customer, lines=[(setup["oven"], 1, "1.00")]).lines.get()
    tuesday = appointment_book(
        actor=None,
        order_line=line,
        service_type=setup["service"],
        associate=setup["fitter"],
        starts_at=_at("10:00", MONDAY + timedelta(days=1)),
        address=setup["address"],
    )

    def ids(**query):
        response = manager_client.get("/api/v1/appointments/", query)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids() == [morning.pk, tuesday.pk]
    assert ids(associate=setup["fitter"].pk, location=setup["store"].pk, customer=customer.pk) == [
        morning.pk,
        tuesday.pk,
    ]
    assert ids(starts_after=_at("00:00", MONDAY + timedelta(days=1)).isoformat()) == [tuesday.pk]
    assert ids(starts_before=_at("00:00", MONDAY + timedelta(days=1)).isoformat()) == [morning.pk]
    assert ids(status="completed") == []
    assert ids(customer=CustomerFactory().pk) == []


# --- who may call what ------------------------------------------------------------------------


@pytest.fixture
def clients(
    anon_client,
    roleless_client,
    customer_app_client,
    associate_client,
    agent_client,
    manager_client,
    admin_client_api,
    fitter_client,
):
    return {
        "anon": anon_client,
        "roleless": roleless_client,
        "customer": customer_app_client,
        "associate": associate_client,  # based at another store
        "agent": agent_client,  # based at another store
        "manager": manager_client,
        "admin": admin_client_api,
        "fitter": fitter_client,  # based at the store of the appointments
    }


@pytest.fixture
def objects(setup, mine):
    extra = make_paid_order(customer=setup["line"].order.customer, lines=[(setup["oven"], 1, "1.00")]).lines.get()
    started = make_paid_order(customer=setup["line"].order.customer, lines=[(setup["oven"], 1, "1.00")]).lines.get()
    return {
        "booked": _booked(setup, at="10:00"),
        "started": appointment_start(actor=None, appointment=_booked(setup, line=started, at="12:30")),
        "missed": _in_the_past(_booked(setup, at="15:00")),
        "free_line": extra,
        "setup": setup,
        "mine": mine,
    }


def _in_the_past(appointment, days=28):
    """A booking moved back in time, so that its start has passed (bookings are made ahead)."""
    shift = timedelta(days=days)
    Appointment.objects.filter(pk=appointment.pk).update(
        starts_at=F("starts_at") - shift,
        ends_at=F("ends_at") - shift,
        blocked_from=F("blocked_from") - shift,
        blocked_until=F("blocked_until") - shift,
    )
    return Appointment.objects.get(pk=appointment.pk)


def _staff_book(o):
    return _book_body(o["setup"], o["free_line"], o["setup"]["address"], at="15:00")


def _my_book(o):
    return _book_body(o["setup"], o["mine"]["line"], o["mine"]["address"], at="15:00")


# (name, method, url builder, body builder, allowed roles)
CASES = [
    ("list", "get", lambda o: "/api/v1/appointments/", None, STAFF),
    ("detail", "get", lambda o: f"/api/v1/appointments/{o['booked'].pk}/", None, STAFF),
    ("book", "post", lambda o: "/api/v1/appointments/", _staff_book, AT_THE_STORE),
    (
        "availability",
        "get",
        lambda o: "/api/v1/appointments/availability/?"
        + "&".join(f"{k}={v}" for k, v in _availability(o["setup"]).items()),
        None,
        STAFF | {"customer"},
    ),
    (
        "reschedule",
        "post",
        lambda o: f"/api/v1/appointments/{o['booked'].pk}/reschedule/",
        lambda o: {"starts_at": _at("15:00").isoformat()},
        AT_THE_STORE,
    ),
    ("start", "post", lambda o: f"/api/v1/appointments/{o['booked'].pk}/start/", lambda o: {}, AT_THE_STORE),
    (
        "complete",
        "post",
        lambda o: f"/api/v1/appointments/{o['started'].pk}/complete/",
        lambda o: {"checklist": [{"item": "Oven fixed", "done": True}], "signed_off_by": "Emma"},
        AT_THE_STORE,
    ),
    (
        "cancel",
        "post",
        lambda o: f"/api/v1/appointments/{o['booked'].pk}/cancel/",
        lambda o: {"reason": "Kitchen not ready"},
        AT_THE_STORE,
    ),
    (
        "no-show",
        "post",
        lambda o: f"/api/v1/appointments/{o['missed'].pk}/no-show/",
        lambda o: {"note": "Rang twice, no answer"},
        AT_THE_STORE,
    ),
    ("my list", "get", lambda o: "/api/v1/me/appointments/", None, {"customer"}),
    ("my booking", "post", lambda o: "/api/v1/me/appointments/", _my_book, {"customer"}),
]


def _state():
    return (
        list(Appointment.objects.order_by("pk").values()),
        list(Notification.objects.order_by("pk").values_list("event", flat=True)),
        Touchpoint.objects.filter(kind=TouchpointKind.INSTALLATION).count(),
    )


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_authorisation_matrix(case, role, clients, objects):
    name, method, url, body, allowed = case
    before = _state()

    client = clients[role]
    response = client.get(url(objects)) if method == "get" else _post(client, url(objects), body(objects))

    if role in allowed:
        assert response.status_code in (200, 201), (name, role, response.content)
        return
    assert response.status_code == (401 if role == "anon" else 403), (name, role, response.content)
    assert response["Content-Type"] == "application/problem+json"
    assert _state() == before


def test_an_associate_changes_appointments_of_their_home_location_only(associate_client, fitter_client, setup):
    appointment = _booked(setup)
    url = f"/api/v1/appointments/{appointment.pk}"

    read = associate_client.get(f"{url}/")
    elsewhere = _post(associate_client, f"{url}/start/", {})
    book_elsewhere = _post(
        associate_client,
        "/api/v1/appointments/",
        _book_body(setup, setup["line"], setup["address"], at="14:00"),
    )
    at_home = _post(fitter_client, f"{url}/start/", {})

    assert read.status_code == 200
    assert elsewhere.status_code == 403 and "home location" in elsewhere.json()["detail"]
    assert book_elsewhere.status_code == 403 and "home location" in book_elsewhere.json()["detail"]
    assert at_home.status_code == 200 and at_home.json()["status"] == "in_progress"
    assert Appointment.objects.count() == 1


def test_an_associate_moved_to_the_store_may_then_act_there(associate, associate_client, setup):
    appointment = _booked(setup)
    associate.associate.home_location = setup["store"]
    associate.associate.save(update_fields=["home_location"])

    response = _post(associate_client, f"/api/v1/appointments/{appointment.pk}/start/", {})

    assert response.status_code == 200


def test_unknown_appointments_are_404s(manager_client, associate_client):
    assert manager_client.get(f"/api/v1/appointments/{10**30}/").status_code == 404
    assert _post(manager_client, "/api/v1/appointments/999999/start/", {}).status_code == 404
    assert _post(associate_client, f"/api/v1/appointments/{10**30}/start/", {}).status_code == 404
    assert _post(associate_client, "/api/v1/appointments/x/start/", {}).status_code == 404
    assert associate_client.get("/api/v1/appointments/x/").status_code == 404


# --- bad input --------------------------------------------------------------------------------


def _bad_bodies(setup, line, address):
    good = _book_body(setup, line, address, at="14:00")
    return {
        "malformed json": "{not json",
        "a list": json.dumps([1, 2]),
        "empty": json.dumps({}),
        "wrong types": json.dumps({**good, "order_line": "x", "service_type": [1], "associate": {"id": 1}}),
        "huge order line": json.dumps({**good, "order_line": 2**70}),
        "huge ids": json.dumps({**good, "service_type": 10**30, "associate": 10**30, "address": 10**30}),
        "negative id": json.dumps({**good, "order_line": -1}),
        "naive datetime": json.dumps({**good, "starts_at": _at("14:00").replace(tzinfo=None).isoformat()}),
        "not a datetime": json.dumps({**good, "starts_at": "next monday"}),
        "datetime as a number": json.dumps({**good, "starts_at": 1_700_000_000}),
        "nul": json.dumps({**good, "starts_at": _at("14:00").isoformat() + "\x00"}),
        "nul inside": json.dumps({**good, "starts_at": "2027-03-01T10:00\x00:00+01:00"}),
        "unknown field": json.dumps({**good, "price": "0.00"}),
        "year 10000": json.dumps({**good, "starts_at": "9999-12-31T23:59:59-23:59"}),
    }


@pytest.mark.parametrize(
    "case",
    [
        "malformed json",
        "a list",
        "empty",
        "wrong types",
        "huge order line",
        "huge ids",
        "negative id",
        "naive datetime",
        "not a datetime",
        "datetime as a number",
        "nul",
        "nul inside",
        "unknown field",
        "year 10000",
    ],
)
@pytest.mark.parametrize("url", ["/api/v1/appointments/", "/api/v1/me/appointments/"])
def test_bad_booking_bodies_are_4xx_never_500(case, url, manager_client, customer_app_client, setup, mine):
    client = manager_client if url == "/api/v1/appointments/" else customer_app_client
    line, address = (setup["line"], setup["address"]) if client is manager_client else (mine["line"], mine["address"])
    body = _bad_bodies(setup, line, address)[case]

    response = client.post(url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=str(uuid4()))

    assert 400 <= response.status_code < 500, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert not Appointment.objects.exists()


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("reschedule", {"starts_at": "2027-03-01T10:00:00"}),
        ("reschedule", {"starts_at": None}),
        ("reschedule", {"starts_at": "x", "associate": 1}),
        ("reschedule", {}),
        ("start", {"notes": "early"}),
        ("start", [1]),
        ("complete", {"checklist": "all done", "signed_off_by": "Emma"}),
        ("complete", {"checklist": [{"item": "x"}], "signed_off_by": "Emma"}),
        ("complete", {"checklist": [{"item": "x", "done": "maybe"}], "signed_off_by": "Emma"}),
        ("complete", {"checklist": [{"item": "x", "done": True, "photo": 1}], "signed_off_by": "Emma"}),
        ("complete", {"checklist": [{"item": "x", "done": True}] * 101, "signed_off_by": "Emma"}),
        ("complete", {"signed_off_by": "Emma\x00"}),
        ("complete", {"signed_off_by": "E" * 121}),
        ("complete", {"notes": "n" * 5001, "signed_off_by": "Emma"}),
        ("cancel", {}),
        ("cancel", {"reason": ["x"]}),
        ("cancel", {"reason": "x" * 10_000}),
        ("cancel", {"reason": " "}),
    ],
)
def test_bad_transition_bodies_are_4xx_never_500(action, body, manager_client, setup):
    appointment = _booked(setup)
    before = list(Appointment.objects.values())

    response = _post(manager_client, f"/api/v1/appointments/{appointment.pk}/{action}/", body)

    assert 400 <= response.status_code < 500, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert list(Appointment.objects.values()) == before


@pytest.mark.parametrize(
    "change",
    [
        {"date_to": str(MONDAY + timedelta(days=31))},  # 32 days
        {"date_to": str(MONDAY - timedelta(days=1))},
        {"date_from": "monday"},
        {"date_from": "2027-02-30"},
        {"service_type": "x"},
        {"service_type": 10**30},
        {"location": 2**70},
        {"service_type": None, "location": None},
        {"associate": 1},
    ],
)
def test_bad_availability_queries_are_400(change, customer_app_client, setup):
    query = {key: value for key, value in {**_availability(setup), **change}.items() if value is not None}

    response = customer_app_client.get("/api/v1/appointments/availability/", query)

    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"


def test_a_whole_month_of_availability_is_allowed(customer_app_client, setup):
    response = customer_app_client.get(
        "/api/v1/appointments/availability/", _availability(setup, date_to=MONDAY + timedelta(days=30))
    )

    assert response.status_code == 200
    assert len(response.json()) == 12 * 23  # 12 slots a working day, 23 weekdays in 31 days from a Monday


def test_a_nul_in_a_query_is_400(customer_app_client, setup):
    query = {**_availability(setup), "location": "\x00"}

    assert customer_app_client.get("/api/v1/appointments/availability/", query).status_code == 400


@pytest.mark.parametrize(
    "query",
    [{"status": "lost"}, {"location": "x"}, {"location": 10**30}, {"starts_after": "soon"}, {"associate": "me"}],
)
def test_bad_list_filters_are_400(query, manager_client):
    response = manager_client.get("/api/v1/appointments/", query)

    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"


# --- query counts -----------------------------------------------------------------------------


def _queries(client, url, query) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, query)
        assert response.status_code == 200, response.content
    return [q["sql"] for q in ctx.captured_queries]


@pytest.mark.parametrize("url", ["/api/v1/appointments/", "/api/v1/me/appointments/"])
def test_appointment_lists_run_constant_queries(url, manager_client, customer_app_client, customer, setup):
    client = manager_client if url == "/api/v1/appointments/" else customer_app_client
    home = CustomerAddressFactory(customer=customer)
    for at in ("09:30", "12:00", "14:30"):
        order = make_paid_order(customer=customer, lines=[(setup["oven"], 1, "1.00")])
        _booked(setup, line=order.lines.get(), at=at, address=home)
    _queries(client, url, {"page_size": 1})  # warm the caller's permissions

    one = _queries(client, url, {"page_size": 1})
    three = _queries(client, url, {"page_size": 3})

    assert len(one) == len(three), "\n".join(three)


def test_availability_runs_constant_queries_whatever_the_range_and_associates(customer_app_client, setup):
    _booked(setup)
    url = "/api/v1/appointments/availability/"
    _queries(customer_app_client, url, _availability(setup))  # warm the caller's customer record
    one_day = _queries(customer_app_client, url, _availability(setup))
    for _ in range(3):
        colleague = AssociateProfileFactory(home_location=setup["store"], user__roles=["associate"])
        colleague.skills.add(*setup["fitter"].skills.all())
        for weekday in range(5):
            WorkingHours.objects.create(associate=colleague, weekday=weekday, starts=time(8), ends=time(18))

    with CaptureQueriesContext(connection) as ctx:
        month = customer_app_client.get(url, _availability(setup, date_to=MONDAY + timedelta(days=30)))

    assert month.status_code == 200 and len({slot["associate"]["id"] for slot in month.json()}) == 4
    assert len(ctx) == len(one_day), "\n".join(q["sql"] for q in ctx.captured_queries)
