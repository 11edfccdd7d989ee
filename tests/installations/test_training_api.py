"""The training API as the apps call it: staff enrol customers (a seat, else the waiting list),
cancel (the first in line is promoted, visibly), record attendance and follow "I need training"
requests up; customers enrol themselves in open sessions, cancel, and ask for training on their
own purchases. Who may call what (an associate writes at their own store only; another customer's
records and purchases are never reachable), Idempotency-Key replays, bad input never a 500, and a
fixed number of queries per list."""

import json
from datetime import timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from core.choices import TouchpointKind
from core.models import Notification, Touchpoint
from installations.choices import EnrolmentStatus, SessionStatus
from installations.models import Enrolment, TrainingCourse, TrainingRequest, TrainingSession
from installations.services_training import training_enrol, training_request_create
from tests.factories import AssociateProfileFactory, CustomerFactory, LocationFactory, ProductFactory, make_paid_order
from tests.matrix import assert_allowed_or_refused

pytestmark = pytest.mark.django_db

ROLES = ["anon", "roleless", "customer", "integration", "associate", "agent", "manager", "admin", "local"]
STAFF = {"associate", "agent", "manager", "admin", "local"}
AT_THE_STORE = {"local", "manager", "admin"}  # the session's store; managers and admins anywhere


def _post(client, url, data=None, key=None):
    return client.post(url, data, format="json", HTTP_IDEMPOTENCY_KEY=key or str(uuid4()))


def _client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _session(store, *, capacity=2, starts_in=timedelta(days=3), course=None, **fields):
    course = course or TrainingCourse.objects.create(code=f"c{uuid4().hex[:8]}", name="Espresso at home")
    start = timezone.now() + starts_in
    return TrainingSession.objects.create(
        course=course, location=store, starts_at=start, ends_at=start + timedelta(hours=2), capacity=capacity, **fields
    )


def _started(session):
    """Move a session whose enrolments are made to an hour ago (enrolment needs a future session)."""
    start = timezone.now() - timedelta(hours=1)
    TrainingSession.objects.filter(pk=session.pk).update(starts_at=start, ends_at=start + timedelta(hours=2))
    return TrainingSession.objects.get(pk=session.pk)


def _status(enrolment):
    return Enrolment.objects.get(pk=enrolment.pk).status


@pytest.fixture
def local_client(setup):
    """The fitter, an associate based at the store the sessions are held in."""
    return _client_for(setup["fitter"].user)


@pytest.fixture
def everyone(clients, local_client):
    return {**clients, "local": local_client}


@pytest.fixture
def machine():
    return ProductFactory(name="Espresso machine", trainable=True)


@pytest.fixture
def mine(customer, machine):
    """The signed-in customer's own espresso machine."""
    return make_paid_order(customer=customer, lines=[(machine, 1, "499.00")]).lines.get()


@pytest.fixture
def theirs(machine):
    """Another customer's espresso machine."""
    return make_paid_order(lines=[(machine, 1, "499.00")]).lines.get()


# --- staff: enrolment, waiting list, promotion ------------------------------------------------


def test_seats_fill_then_the_waiting_list_and_a_cancelled_seat_goes_to_the_first_in_line(manager_client, setup):
    session = _session(setup["store"], capacity=2)
    url = f"/api/v1/training-sessions/{session.pk}"
    customers = [CustomerFactory() for _ in range(4)]

    made = [_post(manager_client, f"{url}/enroll/", {"customer": c.pk}) for c in customers]

    assert [r.status_code for r in made] == [201] * 4, made[0].content
    bodies = [r.json() for r in made]
    assert [b["status"] for b in bodies] == ["enrolled", "enrolled", "waitlisted", "waitlisted"]
    assert [b["waiting_position"] for b in bodies] == [None, None, 1, 2]
    assert made[0]["Location"] == f"/api/v1/enrolments/{bodies[0]['id']}/"
    detail = manager_client.get(f"{url}/").json()
    assert (detail["seats_taken"], detail["seats_left"], detail["waiting"]) == (2, 0, 2)
    assert [e["customer"]["number"] for e in detail["enrolments"]] == [c.number for c in customers]

    cancelled = _post(manager_client, f"/api/v1/enrolments/{bodies[0]['id']}/cancel/", {})

    assert cancelled.status_code == 200, cancelled.content
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["allowed_transitions"] == []
    after = manager_client.get(f"{url}/").json()
    assert [(e["status"], e["waiting_position"]) for e in after["enrolments"]] == [
        ("cancelled", None),
        ("enrolled", None),
        ("enrolled", None),
        ("waitlisted", 1),
    ]
    assert after["enrolments"][2]["promoted_at"] is not None
    assert (after["seats_taken"], after["seats_left"], after["waiting"]) == (2, 0, 1)
    assert Notification.objects.get(event="training_promoted").customer_id == customers[2].pk


def test_staff_enrol_for_a_purchase_of_the_customer_only(manager_client, setup, theirs, mine):
    session = _session(setup["store"])
    url = f"/api/v1/training-sessions/{session.pk}/enroll/"
    owner = theirs.order.customer

    own = _post(manager_client, url, {"customer": owner.pk, "order_line": theirs.pk})
    elses = _post(manager_client, url, {"customer": CustomerFactory().pk, "order_line": mine.pk})
    missing = _post(manager_client, url, {"customer": CustomerFactory().pk, "order_line": 10**9})
    again = _post(manager_client, url, {"customer": owner.pk})

    assert own.status_code == 201 and own.json()["order_line"] == theirs.pk
    assert elses.status_code == 422 and elses.json()["code"] == "order_line_not_customers"
    assert missing.status_code == 400 and missing.json()["errors"][0]["field"] == "order_line"
    assert again.status_code == 409 and again.json()["code"] == "already_enrolled"
    assert list(Enrolment.objects.values_list("customer_id", flat=True)) == [owner.pk]


def test_closed_or_past_sessions_take_no_enrolments(manager_client, setup):
    past = _started(_session(setup["store"]))
    cancelled = _session(setup["store"], status=SessionStatus.CANCELLED)

    for session in (past, cancelled):
        response = _post(
            manager_client, f"/api/v1/training-sessions/{session.pk}/enroll/", {"customer": CustomerFactory().pk}
        )
        assert response.status_code == 409 and response.json()["code"] == "session_closed"
    assert not Enrolment.objects.exists()


def test_attendance_marks_who_came_once_the_session_started(local_client, setup):
    session = _session(setup["store"], capacity=3)
    came, stayed_home = (training_enrol(actor=None, session=session, customer=CustomerFactory()) for _ in range(2))
    waiting_list_extra = training_enrol(actor=None, session=_session(setup["store"]), customer=CustomerFactory())
    url = f"/api/v1/training-sessions/{session.pk}/attendance/"

    too_soon = _post(local_client, url, {"attended": [came.customer_id]})
    session = _started(session)
    stranger = _post(local_client, url, {"attended": [waiting_list_extra.customer_id]})
    recorded = _post(local_client, url, {"attended": [came.customer_id, came.customer_id]})
    again = _post(local_client, url, {"attended": []})

    assert too_soon.status_code == 409 and too_soon.json()["code"] == "session_not_started"
    assert stranger.status_code == 422 and stranger.json()["customers"] == [waiting_list_extra.customer_id]
    assert recorded.status_code == 200, recorded.content
    assert recorded.json()["status"] == "held"
    assert {e["id"]: e["status"] for e in recorded.json()["enrolments"]} == {
        came.pk: "attended",
        stayed_home.pk: "absent",
    }
    assert (_status(came), _status(stayed_home)) == (EnrolmentStatus.ATTENDED, EnrolmentStatus.ABSENT)
    assert again.status_code == 409
    latest = Enrolment.history.filter(id=came.pk).latest("history_date")
    assert latest.status == EnrolmentStatus.ATTENDED and latest.history_user == setup["fitter"].user


def test_the_session_list_is_what_is_not_over_yet_soonest_first_and_filters(manager_client, setup):
    store = setup["store"]
    later = _session(store, starts_in=timedelta(days=5))
    sooner = _session(store, starts_in=timedelta(days=2))
    over = _session(store, starts_in=timedelta(days=-3))
    elsewhere = _session(LocationFactory(), starts_in=timedelta(days=4), status=SessionStatus.CANCELLED)

    def ids(**query):
        response = manager_client.get("/api/v1/training-sessions/", query)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids() == [sooner.pk, elsewhere.pk, later.pk]
    assert ids(location=store.pk) == [sooner.pk, later.pk]
    assert ids(status="cancelled") == [elsewhere.pk]
    assert ids(course=later.course_id) == [later.pk]
    assert ids(starts_before=timezone.now().isoformat()) == [over.pk]
    assert ids(starts_after=(timezone.now() + timedelta(days=3)).isoformat()) == [elsewhere.pk, later.pk]
    row = manager_client.get("/api/v1/training-sessions/").json()["results"][0]
    assert row["location"]["id"] == store.pk and row["course"]["name"] == "Espresso at home"
    assert "enrolments" not in row and row["seats_left"] == 2


# --- staff: "I need training" -----------------------------------------------------------------


def test_the_queue_is_the_open_requests_oldest_first_and_closing_arranges_or_declines(
    associate_client, agent_client, setup, theirs, machine
):
    first = training_request_create(actor=None, order_line=theirs, note="Milk foam")
    second = training_request_create(actor=None, order_line=make_paid_order(lines=[(machine, 1, "1.00")]).lines.get())
    enrolment = training_enrol(actor=None, session=_session(setup["store"]), customer=theirs.order.customer)
    other_customers = training_enrol(actor=None, session=_session(setup["store"]), customer=CustomerFactory())

    queue = associate_client.get("/api/v1/training-requests/").json()["results"]
    refused = _post(
        associate_client,
        f"/api/v1/training-requests/{first.pk}/close/",
        {"outcome": "Booked", "enrolment": other_customers.pk},
    )
    arranged = _post(
        associate_client,
        f"/api/v1/training-requests/{first.pk}/close/",
        {"outcome": "Booked Saturday", "enrolment": enrolment.pk},
    )
    declined = _post(agent_client, f"/api/v1/training-requests/{second.pk}/close/", {"outcome": "No course yet"})
    again = _post(agent_client, f"/api/v1/training-requests/{second.pk}/close/", {"outcome": "Still no"})

    assert [row["id"] for row in queue] == [first.pk, second.pk]
    assert queue[0]["product"]["name"] == "Espresso machine" and queue[0]["note"] == "Milk foam"
    assert queue[0]["customer"]["number"] == theirs.order.customer.number
    assert refused.status_code == 422 and refused.json()["code"] == "enrolment_not_customers"
    assert arranged.status_code == 200, arranged.content
    assert arranged.json()["status"] == "arranged" and arranged.json()["enrolment"] == enrolment.pk
    assert declined.status_code == 200 and declined.json()["status"] == "declined"
    assert again.status_code == 409 and again.json()["code"] == "request_closed"
    assert associate_client.get("/api/v1/training-requests/").json()["results"] == []
    assert associate_client.get(f"/api/v1/training-requests/{first.pk}/").json()["outcome"] == "Booked Saturday"
    assert Notification.objects.filter(event="training_request_answered").count() == 2


# --- the customer's app -----------------------------------------------------------------------


def test_a_customer_sees_open_sessions_only_with_figures_and_never_who_else_is_enrolled(customer_app_client, setup):
    store = setup["store"]
    open_one = _session(store, capacity=1)
    full = _session(store, capacity=1, starts_in=timedelta(days=4))
    training_enrol(actor=None, session=full, customer=CustomerFactory())
    training_enrol(actor=None, session=full, customer=CustomerFactory())
    _session(store, starts_in=timedelta(days=-2))
    _session(store, status=SessionStatus.CANCELLED)
    _session(store, status=SessionStatus.HELD)

    rows = customer_app_client.get("/api/v1/me/training-sessions/").json()["results"]

    assert [row["id"] for row in rows] == [open_one.pk, full.pk]
    assert [(row["seats_left"], row["waiting"], row["your_enrolment"]) for row in rows] == [
        (1, 0, None),
        (0, 1, None),
    ]
    detail = customer_app_client.get(f"/api/v1/me/training-sessions/{full.pk}/").json()
    assert "enrolments" not in detail and "seats_taken" not in detail and detail["your_enrolment"] is None


def test_a_customer_enrols_for_their_purchase_waits_is_promoted_and_cancels(
    customer, customer_app_client, manager_client, setup, mine
):
    session = _session(setup["store"], capacity=1)
    seated = training_enrol(actor=None, session=session, customer=CustomerFactory())

    made = _post(customer_app_client, f"/api/v1/me/training-sessions/{session.pk}/enroll/", {"order_line": mine.pk})

    assert made.status_code == 201, made.content
    body = made.json()
    assert body["status"] == "waitlisted" and body["waiting_position"] == 1 and body["order_line"] == mine.pk
    assert body["allowed_transitions"] == ["cancel"] and "customer" not in body
    assert made["Location"] == f"/api/v1/me/enrolments/{body['id']}/"
    listed = customer_app_client.get("/api/v1/me/training-sessions/").json()["results"]
    assert listed[0]["your_enrolment"] == {"id": body["id"], "status": "waitlisted"}
    assert Touchpoint.objects.get(kind=TouchpointKind.TRAINING, subject_id=body["id"]).channel == "app"

    assert _post(manager_client, f"/api/v1/enrolments/{seated.pk}/cancel/", {}).status_code == 200
    promoted = customer_app_client.get(f"/api/v1/me/enrolments/{body['id']}/").json()
    assert promoted["status"] == "enrolled" and promoted["promoted_at"] and promoted["waiting_position"] is None

    cancelled = _post(customer_app_client, f"/api/v1/me/enrolments/{body['id']}/cancel/", {})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert [row["id"] for row in customer_app_client.get("/api/v1/me/enrolments/").json()["results"]] == [body["id"]]
    assert _status(seated) == EnrolmentStatus.CANCELLED


def test_another_customers_purchase_is_refused_like_one_that_does_not_exist(customer_app_client, setup, theirs):
    session = _session(setup["store"])
    url = f"/api/v1/me/training-sessions/{session.pk}/enroll/"

    elses = _post(customer_app_client, url, {"order_line": theirs.pk})
    missing = _post(customer_app_client, url, {"order_line": 10**12})
    asked = _post(customer_app_client, "/api/v1/me/training-requests/", {"order_line": theirs.pk, "note": "x"})
    asked_missing = _post(customer_app_client, "/api/v1/me/training-requests/", {"order_line": 10**12})

    for response in (elses, missing, asked, asked_missing):
        assert response.status_code == 422, response.content
        assert response.json()["code"] == "order_line_not_customers"
    assert elses.json()["detail"] == missing.json()["detail"] == asked.json()["detail"]
    assert not Enrolment.objects.exists() and not TrainingRequest.objects.exists()


def test_another_customers_enrolments_and_requests_are_404s(customer, customer_app_client, setup, theirs):
    session = _session(setup["store"])
    other = training_enrol(actor=None, session=session, customer=theirs.order.customer)
    request = training_request_create(actor=None, order_line=theirs)

    assert customer_app_client.get(f"/api/v1/me/enrolments/{other.pk}/").status_code == 404
    assert _post(customer_app_client, f"/api/v1/me/enrolments/{other.pk}/cancel/", {}).status_code == 404
    assert customer_app_client.get(f"/api/v1/me/training-requests/{request.pk}/").status_code == 404
    assert customer_app_client.get("/api/v1/me/enrolments/").json()["results"] == []
    assert customer_app_client.get("/api/v1/me/training-requests/").json()["results"] == []
    assert customer_app_client.get(f"/api/v1/me/training-sessions/{session.pk}/").json()["your_enrolment"] is None
    assert _status(other) == EnrolmentStatus.ENROLLED


def test_a_customer_asks_for_training_on_their_own_purchase_once(customer_app_client, customer, mine):
    rug = make_paid_order(customer=customer, lines=[(ProductFactory(name="Rug"), 1, "9.00")]).lines.get()
    url = "/api/v1/me/training-requests/"

    asked = _post(customer_app_client, url, {"order_line": mine.pk, "note": "Milk foam, please"})
    twice = _post(customer_app_client, url, {"order_line": mine.pk})
    untrainable = _post(customer_app_client, url, {"order_line": rug.pk})

    assert asked.status_code == 201, asked.content
    body = asked.json()
    assert body["status"] == "open" and body["note"] == "Milk foam, please"
    assert body["product"]["name"] == "Espresso machine" and "customer" not in body and "handled_by" not in body
    assert asked["Location"] == f"/api/v1/me/training-requests/{body['id']}/"
    assert twice.status_code == 409 and twice.json()["code"] == "already_requested"
    assert untrainable.status_code == 422 and untrainable.json()["code"] == "not_trainable"
    assert [row["id"] for row in customer_app_client.get(url).json()["results"]] == [body["id"]]
    assert TrainingRequest.objects.get().customer_id == customer.pk


# --- Idempotency-Key --------------------------------------------------------------------------


def test_a_retried_enrolment_with_the_same_key_is_replayed_not_repeated(customer_app_client, setup):
    session = _session(setup["store"])
    url = f"/api/v1/me/training-sessions/{session.pk}/enroll/"
    key = str(uuid4())

    first = _post(customer_app_client, url, {}, key=key)
    retry = _post(customer_app_client, url, {}, key=key)
    other_body = _post(customer_app_client, url, {"order_line": 5}, key=key)

    assert first.status_code == 201 and retry.status_code == 201
    assert retry.json() == first.json() and retry["Idempotent-Replayed"] == "true"
    assert other_body.status_code == 422
    assert Enrolment.objects.count() == 1
    assert Notification.objects.filter(event="training_enrolled").count() == 1


# --- who may call what ------------------------------------------------------------------------


@pytest.fixture
def objects(setup, customer, mine, theirs):
    store = setup["store"]
    upcoming = _session(store, capacity=3)
    seated = training_enrol(actor=None, session=upcoming, customer=theirs.order.customer)
    started = _session(store, capacity=3)
    present = training_enrol(actor=None, session=started, customer=CustomerFactory())
    _started(started)
    own = training_enrol(actor=None, session=_session(store), customer=customer)
    return {
        "upcoming": upcoming,
        "started": started,
        "seated": seated,
        "present": present,
        "own": own,
        "request": training_request_create(actor=None, order_line=theirs),
        "mine": mine,
    }


# (name, method, url builder, body builder, allowed roles)
CASES = [
    ("list", "get", lambda o: "/api/v1/training-sessions/", None, STAFF),
    ("detail", "get", lambda o: f"/api/v1/training-sessions/{o['upcoming'].pk}/", None, STAFF),
    (
        "enroll",
        "post",
        lambda o: f"/api/v1/training-sessions/{o['upcoming'].pk}/enroll/",
        lambda o: {"customer": CustomerFactory().pk},
        AT_THE_STORE,
    ),
    (
        "attendance",
        "post",
        lambda o: f"/api/v1/training-sessions/{o['started'].pk}/attendance/",
        lambda o: {"attended": [o["present"].customer_id]},
        AT_THE_STORE,
    ),
    (
        "change session",
        "post",
        lambda o: f"/api/v1/training-sessions/{o['upcoming'].pk}/change/",
        lambda o: {"capacity": 5},
        AT_THE_STORE,
    ),
    (
        "cancel session",
        "post",
        lambda o: f"/api/v1/training-sessions/{o['upcoming'].pk}/cancel/",
        lambda o: {"reason": "The trainer is ill"},
        AT_THE_STORE,
    ),
    ("enrolments", "get", lambda o: "/api/v1/enrolments/", None, STAFF),
    ("enrolment", "get", lambda o: f"/api/v1/enrolments/{o['seated'].pk}/", None, STAFF),
    ("cancel", "post", lambda o: f"/api/v1/enrolments/{o['seated'].pk}/cancel/", lambda o: {}, AT_THE_STORE),
    ("queue", "get", lambda o: "/api/v1/training-requests/", None, STAFF),
    ("request", "get", lambda o: f"/api/v1/training-requests/{o['request'].pk}/", None, STAFF),
    (
        "close",
        "post",
        lambda o: f"/api/v1/training-requests/{o['request'].pk}/close/",
        lambda o: {"outcome": "Called, no course yet"},
        STAFF,
    ),
    ("my sessions", "get", lambda o: "/api/v1/me/training-sessions/", None, {"customer"}),
    ("my session", "get", lambda o: f"/api/v1/me/training-sessions/{o['upcoming'].pk}/", None, {"customer"}),
    (
        "my enroll",
        "post",
        lambda o: f"/api/v1/me/training-sessions/{o['upcoming'].pk}/enroll/",
        lambda o: {"order_line": o["mine"].pk},
        {"customer"},
    ),
    ("my enrolments", "get", lambda o: "/api/v1/me/enrolments/", None, {"customer"}),
    ("my cancel", "post", lambda o: f"/api/v1/me/enrolments/{o['own'].pk}/cancel/", lambda o: {}, {"customer"}),
    ("my requests", "get", lambda o: "/api/v1/me/training-requests/", None, {"customer"}),
    (
        "my request",
        "post",
        lambda o: "/api/v1/me/training-requests/",
        lambda o: {"order_line": o["mine"].pk, "note": "Please"},
        {"customer"},
    ),
]


def _state():
    return (
        list(Enrolment.objects.order_by("pk").values()),
        list(TrainingSession.objects.order_by("pk").values()),
        list(TrainingRequest.objects.order_by("pk").values()),
        list(Notification.objects.order_by("pk").values_list("event", flat=True)),
        Touchpoint.objects.filter(kind=TouchpointKind.TRAINING).count(),
    )


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_authorisation_matrix(case, role, everyone, objects):
    name, method, url, body, allowed = case
    before = _state()

    client = everyone[role]
    response = client.get(url(objects)) if method == "get" else _post(client, url(objects), body(objects))

    assert_allowed_or_refused(response, name=name, role=role, allowed=allowed, before=before, after=_state)
    if role in allowed and method == "post":
        assert _state() != before, (name, role)


def test_an_associate_reads_everywhere_but_writes_at_their_home_store_only(associate, associate_client, setup, theirs):
    session = _session(setup["store"])
    seated = training_enrol(actor=None, session=session, customer=theirs.order.customer)

    read = associate_client.get(f"/api/v1/training-sessions/{session.pk}/")
    enrol = _post(
        associate_client, f"/api/v1/training-sessions/{session.pk}/enroll/", {"customer": CustomerFactory().pk}
    )
    cancel = _post(associate_client, f"/api/v1/enrolments/{seated.pk}/cancel/", {})
    associate.associate.home_location = setup["store"]
    associate.associate.save(update_fields=["home_location"])
    moved = _post(associate_client, f"/api/v1/enrolments/{seated.pk}/cancel/", {})

    assert read.status_code == 200 and len(read.json()["enrolments"]) == 1
    assert enrol.status_code == 403 and "home location" in enrol.json()["detail"]
    assert cancel.status_code == 403 and "home location" in cancel.json()["detail"]
    assert moved.status_code == 200 and moved.json()["status"] == "cancelled"
    assert Enrolment.objects.count() == 1


@pytest.mark.parametrize(
    "url",
    [
        f"/api/v1/training-sessions/{10**30}/",
        "/api/v1/training-sessions/x/",
        "/api/v1/enrolments/999999/",
        f"/api/v1/training-requests/{2**63}/",
        f"/api/v1/me/training-sessions/{10**30}/",
        "/api/v1/me/enrolments/x/",
    ],
)
def test_unknown_ids_are_404s(url, manager_client, customer_app_client):
    client = customer_app_client if "/me/" in url else manager_client
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        f"/api/v1/training-sessions/{10**30}/enroll/",
        "/api/v1/training-sessions/x/attendance/",
        "/api/v1/enrolments/999999/cancel/",
        f"/api/v1/enrolments/{10**30}/cancel/",
    ],
)
def test_unknown_ids_in_writes_are_404s_for_associates_too(url, associate_client):
    body = {"customer": 1} if "enroll" in url else {"attended": []} if "attendance" in url else {}
    assert _post(associate_client, url, body).status_code == 404


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "customer"),
        ({"customer": "x"}, "customer"),
        ({"customer": 10**30}, "customer"),
        ({"customer": -1}, "customer"),
        ({"customer": None}, "customer"),
        ({"customer": [1]}, "customer"),
        ({"customer": "1\x00"}, "customer"),
        ({"customer": 1, "order_line": "one"}, "order_line"),
        ({"customer": 1, "order_line": 2**70}, "order_line"),
        ({"customer": 1, "seat": 3}, "seat"),
    ],
)
def test_bad_staff_enrolments_are_400_field_by_field(body, field, manager_client, setup):
    session = _session(setup["store"])

    response = _post(manager_client, f"/api/v1/training-sessions/{session.pk}/enroll/", body)

    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert field in [error["field"] for error in response.json()["errors"]]
    assert not Enrolment.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "attended"),
        ({"attended": "everyone"}, "attended"),
        ({"attended": ["x"]}, "attended"),
        ({"attended": [10**30]}, "attended"),
        ({"attended": None}, "attended"),
        ({"attended": [1], "absent": [2]}, "absent"),
    ],
)
def test_bad_attendance_is_400_field_by_field(body, field, manager_client, setup):
    session = _session(setup["store"])
    training_enrol(actor=None, session=session, customer=CustomerFactory())
    session = _started(session)
    before = (list(Enrolment.objects.values()), list(TrainingSession.objects.values()))

    response = _post(manager_client, f"/api/v1/training-sessions/{session.pk}/attendance/", body)

    assert response.status_code == 400, response.content
    assert field in [error["field"] for error in response.json()["errors"]]
    assert (list(Enrolment.objects.values()), list(TrainingSession.objects.values())) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "outcome"),
        ({"outcome": ""}, "outcome"),
        ({"outcome": "   "}, "outcome"),
        ({"outcome": "o" * 501}, "outcome"),
        ({"outcome": "Booked\x00"}, "outcome"),
        ({"outcome": ["Booked"]}, "outcome"),
        ({"outcome": "Booked", "enrolment": "x"}, "enrolment"),
        ({"outcome": "Booked", "enrolment": 10**30}, "enrolment"),
        ({"outcome": "Booked", "enrolment": 999999}, "enrolment"),
        ({"outcome": "Booked", "status": "arranged"}, "status"),
    ],
)
def test_bad_closings_are_400_field_by_field(body, field, manager_client, theirs):
    request = training_request_create(actor=None, order_line=theirs)

    response = _post(manager_client, f"/api/v1/training-requests/{request.pk}/close/", body)

    assert response.status_code == 400, response.content
    assert field in [error["field"] for error in response.json()["errors"]]
    assert TrainingRequest.objects.get(pk=request.pk).status == "open"


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("session", {"order_line": "mine"}, "order_line"),
        ("session", {"order_line": 2**70}, "order_line"),
        ("session", {"order_line": 0}, "order_line"),
        ("session", {"customer": 1}, "customer"),
        ("requests", {}, "order_line"),
        ("requests", {"order_line": None}, "order_line"),
        ("requests", {"order_line": 1, "note": "n" * 501}, "note"),
        ("requests", {"order_line": 1, "note": "a\x00b"}, "note"),
        ("requests", {"order_line": 1, "note": {"text": "x"}}, "note"),
        ("requests", {"order_line": 1, "customer": 2}, "customer"),
    ],
)
def test_bad_customer_bodies_are_400_field_by_field(url, body, field, customer_app_client, setup):
    session = _session(setup["store"])
    path = f"/api/v1/me/training-sessions/{session.pk}/enroll/" if url == "session" else "/api/v1/me/training-requests/"

    response = _post(customer_app_client, path, body)

    assert response.status_code == 400, response.content
    assert field in [error["field"] for error in response.json()["errors"]]
    assert not Enrolment.objects.exists() and not TrainingRequest.objects.exists()


@pytest.mark.parametrize("raw", ["{not json", json.dumps([1, 2]), json.dumps("x"), "\x00", json.dumps(None)])
@pytest.mark.parametrize(
    "path",
    ["enroll", "attendance", "cancel", "close", "my enroll", "my cancel", "my request"],
)
def test_malformed_bodies_are_4xx_never_500(raw, path, manager_client, customer_app_client, customer, setup, theirs):
    session = _session(setup["store"])
    seated = training_enrol(actor=None, session=session, customer=customer)
    request = training_request_create(actor=None, order_line=theirs)
    urls = {
        "enroll": f"/api/v1/training-sessions/{session.pk}/enroll/",
        "attendance": f"/api/v1/training-sessions/{session.pk}/attendance/",
        "cancel": f"/api/v1/enrolments/{seated.pk}/cancel/",
        "close": f"/api/v1/training-requests/{request.pk}/close/",
        "my enroll": f"/api/v1/me/training-sessions/{session.pk}/enroll/",
        "my cancel": f"/api/v1/me/enrolments/{seated.pk}/cancel/",
        "my request": "/api/v1/me/training-requests/",
    }
    client = customer_app_client if path.startswith("my") else manager_client
    before = _state()

    response = client.post(urls[path], raw, content_type="application/json", HTTP_IDEMPOTENCY_KEY=str(uuid4()))

    assert 400 <= response.status_code < 500, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert _state() == before


@pytest.mark.parametrize(
    ("url", "query"),
    [
        ("/api/v1/training-sessions/", {"status": "lost"}),
        ("/api/v1/training-sessions/", {"location": "x"}),
        ("/api/v1/training-sessions/", {"course": 10**30}),
        ("/api/v1/training-sessions/", {"starts_after": "soon"}),
        ("/api/v1/training-sessions/", {"place": "moon"}),
        ("/api/v1/enrolments/", {"status": "maybe"}),
        ("/api/v1/enrolments/", {"customer": "me"}),
        ("/api/v1/training-requests/", {"customer": 2**70}),
        ("/api/v1/me/training-sessions/", {"starts_before": "tomorrow"}),
        ("/api/v1/me/enrolments/", {"status": "lost"}),
    ],
)
def test_bad_list_filters_are_400(url, query, manager_client, customer_app_client):
    client = customer_app_client if "/me/" in url else manager_client

    response = client.get(url, query)

    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"


def test_a_nul_in_a_query_is_400(manager_client):
    assert manager_client.get("/api/v1/training-sessions/", {"location": "\x00"}).status_code == 400


# --- query counts -----------------------------------------------------------------------------


def _queries(client, url, query) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, query)
        assert response.status_code == 200, response.content
    return [q["sql"] for q in ctx.captured_queries]


LISTS = [
    "/api/v1/training-sessions/",
    "/api/v1/enrolments/",
    "/api/v1/training-requests/",
    "/api/v1/me/training-sessions/",
    "/api/v1/me/enrolments/",
    "/api/v1/me/training-requests/",
]


@pytest.mark.parametrize("url", LISTS)
def test_training_lists_run_constant_queries(url, manager_client, customer_app_client, customer, setup, machine):
    client = customer_app_client if "/me/" in url else manager_client
    for day in range(3):
        session = _session(setup["store"], capacity=1, starts_in=timedelta(days=day + 1))
        session.trainer = setup["fitter"]
        session.save(update_fields=["trainer"])
        line = make_paid_order(customer=customer, lines=[(machine, 1, "1.00")]).lines.get()
        training_enrol(actor=None, session=session, customer=customer, order_line=line)
        training_enrol(actor=None, session=session, customer=CustomerFactory())  # waits
        training_request_create(actor=None, order_line=line, note=f"Day {day}")
    _queries(client, url, {"page_size": 1})  # warm the caller's permissions

    one = _queries(client, url, {"page_size": 1})
    three = _queries(client, url, {"page_size": 3})

    assert len(client.get(url, {"page_size": 3}).json()["results"]) == 3
    assert len(one) == len(three) <= 6, "\n".join(three)


def test_a_session_detail_runs_constant_queries_whatever_its_enrolments(manager_client, setup):
    small = _session(setup["store"], capacity=1)
    big = _session(setup["store"], capacity=3)
    training_enrol(actor=None, session=small, customer=CustomerFactory())
    for _ in range(6):
        training_enrol(actor=None, session=big, customer=CustomerFactory())
    _queries(manager_client, f"/api/v1/training-sessions/{small.pk}/", {})

    one = _queries(manager_client, f"/api/v1/training-sessions/{small.pk}/", {})
    six = _queries(manager_client, f"/api/v1/training-sessions/{big.pk}/", {})

    assert len(one) == len(six), "\n".join(six)
    positions = [
        e["waiting_position"] for e in manager_client.get(f"/api/v1/training-sessions/{big.pk}/").json()["enrolments"]
    ]
    assert positions == [None, None, None, 1, 2, 3]


def test_staff_move_a_session_and_the_people_in_it_are_told(local_client, setup):
    session = _session(setup["store"], capacity=1)
    seated = training_enrol(actor=None, session=session, customer=CustomerFactory())
    waiting = training_enrol(actor=None, session=session, customer=CustomerFactory())
    start = (session.starts_at + timedelta(days=2)).astimezone(ZoneInfo("Europe/Amsterdam"))
    url = f"/api/v1/training-sessions/{session.pk}/change/"

    moved = _post(
        local_client,
        url,
        {
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=3)).isoformat(),
            "capacity": 2,
            "reason": "a bigger room",
        },
    )

    assert moved.status_code == 200, moved.content
    body = moved.json()
    assert body["capacity"] == 2 and body["seats_left"] == 0
    assert TrainingSession.objects.get(pk=session.pk).starts_at == start
    assert _status(waiting) == EnrolmentStatus.ENROLLED
    told = sorted(Notification.objects.filter(event="training_moved").values_list("customer_id", flat=True))
    assert told == sorted([seated.customer_id, waiting.customer_id])


@pytest.mark.parametrize(
    ("body", "status", "field_or_code"),
    [
        ({"capacity": 0}, 400, "capacity"),
        ({"capacity": 1}, 422, "capacity_below_seats"),
        ({"starts_at": "2020-01-01T10:00:00+00:00"}, 422, "starts_in_past"),
        ({"starts_at": "2030-01-01T10:00:00"}, 400, "starts_at"),  # no UTC offset
        ({"location": 2**31}, 400, "location"),
        ({"status": "held"}, 400, "status"),
        ({"place": "moon"}, 400, "place"),
    ],
)
def test_a_bad_change_is_refused_field_by_field_and_changes_nothing(local_client, setup, body, status, field_or_code):
    session = _session(setup["store"], capacity=2)
    for _ in range(2):
        training_enrol(actor=None, session=session, customer=CustomerFactory())
    before = _state()

    response = _post(local_client, f"/api/v1/training-sessions/{session.pk}/change/", body)

    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    fields = {error["field"] for error in problem.get("errors", [])}
    assert field_or_code in fields or problem["code"] == field_or_code, problem
    assert _state() == before


def test_an_associate_does_not_move_a_session_to_another_store(local_client, setup):
    session = _session(setup["store"])

    response = _post(
        local_client, f"/api/v1/training-sessions/{session.pk}/change/", {"location": LocationFactory().pk}
    )

    assert response.status_code == 403
    assert TrainingSession.objects.get(pk=session.pk).location_id == setup["store"].pk


def test_staff_call_a_session_off_with_a_reason(local_client, setup):
    session = _session(setup["store"])
    seated = training_enrol(actor=None, session=session, customer=CustomerFactory())
    url = f"/api/v1/training-sessions/{session.pk}/cancel/"

    without = _post(local_client, url, {})
    called_off = _post(local_client, url, {"reason": "The trainer is ill"})
    again = _post(local_client, url, {"reason": "The trainer is ill"})

    assert without.status_code == 400 and without.json()["errors"][0]["field"] == "reason"
    assert called_off.status_code == 200 and called_off.json()["status"] == SessionStatus.CANCELLED
    assert again.status_code == 409
    assert _status(seated) == EnrolmentStatus.CANCELLED
    assert Notification.objects.get(event="training_session_cancelled").customer_id == seated.customer_id


@pytest.mark.parametrize(
    "body",
    [
        {"starts_at": "9999-12-31T23:00:00+00:00", "ends_at": "9999-12-31T23:30:00+00:00"},
        {"ends_at": "9999-12-31T23:30:00+00:00"},
        {"starts_at": "0001-01-01T00:00:00+00:00"},
    ],
)
def test_far_off_times_are_refused_not_a_500(local_client, setup, body):
    session = _session(setup["store"])
    training_enrol(actor=None, session=session, customer=CustomerFactory())

    response = _post(local_client, f"/api/v1/training-sessions/{session.pk}/change/", body)

    assert response.status_code in (400, 422), response.content
    assert TrainingSession.objects.get(pk=session.pk).starts_at == session.starts_at


def test_an_associate_names_a_trainer_of_their_own_store_only(local_client, setup):
    session = _session(setup["store"])
    colleague = AssociateProfileFactory(home_location=setup["store"], user__roles=["associate"])
    elsewhere = AssociateProfileFactory(user__roles=["associate"])
    url = f"/api/v1/training-sessions/{session.pk}/change/"

    refused = _post(local_client, url, {"trainer": elsewhere.pk})
    named = _post(local_client, url, {"trainer": colleague.pk})

    assert refused.status_code == 403
    assert named.status_code == 200, named.content
    assert TrainingSession.objects.get(pk=session.pk).trainer == colleague
