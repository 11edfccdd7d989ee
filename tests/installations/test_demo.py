"""The demo's installations, training and alterations (installations/demo.py): real rows in every
common state, as the services leave them, never double-booking anyone, and safe to load again."""

from collections import Counter, defaultdict
from datetime import datetime, time, timedelta
from decimal import Decimal
from io import StringIO
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from core.choices import LocationKind, Role, TouchpointKind
from core.codes import secret_code_formatted
from core.demo.staff import DEMO_ASSOCIATE, DEMO_CUSTOMER
from core.models import AssociateProfile, Product, StateTransition, Touchpoint, User
from installations.catalogue import covers
from installations.choices import (
    HOLDING_STATUSES,
    AlterationStatus,
    AppointmentStatus,
    EnrolmentStatus,
    ServicePlace,
    SessionStatus,
    TrainingRequestStatus,
)
from installations.models import (
    Absence,
    Alteration,
    AlterationKind,
    Appointment,
    Enrolment,
    ServiceType,
    TrainingCourse,
    TrainingRequest,
    TrainingSession,
    WorkingHours,
)
from installations.selectors import buffers
from installations.selectors_calendar import appointment_history
from orders.choices import ChargeKind, ChargeStatus, FulfilmentMethod, OrderStatus, PickupStatus
from orders.services.charges import ledger_of, units_value

pytestmark = pytest.mark.django_db

CUSTOMERS = 200  # the default run, what `make run` loads
INSTALLATIONS_MODELS = [
    ServiceType,
    AlterationKind,
    TrainingCourse,
    TrainingSession,
    WorkingHours,
    Absence,
    Appointment,
    Enrolment,
    TrainingRequest,
    Alteration,
]


def seed(customers: int = CUSTOMERS) -> str:
    out = StringIO()
    call_command("seed_demo", customers=customers, stdout=out)
    return out.getvalue()


def installations_rows() -> dict[str, int]:
    counts = {model.__name__: model.objects.count() for model in INSTALLATIONS_MODELS}
    counts["AppointmentHistory"] = Appointment.history.count()
    counts["AlterationHistory"] = Alteration.history.count()
    counts["StateTransition"] = StateTransition.objects.count()
    return counts


def overlapping(spans) -> list:
    spans = sorted(spans)
    return [(a, b) for a, b in pairwise(spans) if b[0] < a[1]]


def assert_nobody_is_double_booked() -> None:
    """No associate holds two appointments (with their travel), nor one across a session they give
    or an absence: what free_slots would have refused, and, for holding ones, the exclusion constraint."""
    busy = defaultdict(list)
    for who, start, end, status in Appointment.objects.values_list(
        "associate", "blocked_from", "blocked_until", "status"
    ):
        if status != AppointmentStatus.CANCELLED:
            busy[who].append((start, end, "appointment"))
    for who, start, end in TrainingSession.objects.exclude(status=SessionStatus.CANCELLED).values_list(
        "trainer", "starts_at", "ends_at"
    ):
        busy[who].append((start, end, "session"))
    for who, start, end in Absence.objects.values_list("associate", "starts_at", "ends_at"):
        busy[who].append((start, end, "absence"))
    for who, spans in busy.items():
        assert not overlapping(spans), (who, overlapping(spans))


def test_the_catalogue_offers_every_service_the_products_promise():
    seed(0)

    products = Product.objects.filter(stocked=True)
    service_types = list(ServiceType.objects.filter(is_active=True))
    for product in products.filter(installable=True):
        assert any(covers(st, product) for st in service_types), product.sku
    assert {st.place for st in service_types} == {ServicePlace.HOME, ServicePlace.STORE}
    assert all(st.travel_buffer_minutes > 0 for st in service_types if st.place == ServicePlace.HOME)
    assert all(st.skills.exists() for st in service_types)
    courses = list(TrainingCourse.objects.all())
    for product in products.filter(trainable=True):
        assert any(covers(course, product) for course in courses), product.sku
    kinds = list(AlterationKind.objects.select_related("service_product"))
    for product in products.filter(alterable=True):
        assert any(covers(kind, product) for kind in kinds), product.sku
    for kind in kinds:
        service = kind.service_product
        assert not service.stocked and not service.returnable and service.price == kind.fee, kind.code
        assert kind.skills.filter(code="tailoring").exists()


def test_store_associates_work_monday_to_saturday_in_their_stores_time_and_some_are_away():
    seed(0)

    associates = AssociateProfile.objects.filter(
        home_location__kind=LocationKind.STORE, user__groups__name=Role.ASSOCIATE
    ).prefetch_related("working_hours")
    assert associates.exists()
    for profile in associates:
        days = {hours.weekday for hours in profile.working_hours.all()}
        assert days and days <= set(range(7)), profile
        assert len(days & set(range(6))) >= 5, profile
        assert all(hours.starts < hours.ends for hours in profile.working_hours.all())
    assert Absence.objects.count() >= 2
    demo = AssociateProfile.objects.get(user__email=DEMO_ASSOCIATE)
    assert set(demo.working_hours.values_list("weekday", flat=True)) == set(range(7))  # any day she signs in


def test_rows_exist_in_every_common_state_with_what_each_state_records():
    seed()
    now = timezone.now()

    appointments = Appointment.objects.select_related("service_type")
    states = set(appointments.values_list("status", flat=True))
    assert {AppointmentStatus.COMPLETED, AppointmentStatus.SCHEDULED, AppointmentStatus.CANCELLED} <= states
    for appointment in appointments.filter(status=AppointmentStatus.COMPLETED):
        assert appointment.checklist and appointment.signed_off_by and appointment.completed_at, appointment.number
        assert all(set(row) == {"item", "done"} for row in appointment.checklist)
    assert appointments.filter(status=AppointmentStatus.SCHEDULED, starts_at__gt=now).exists()
    assert not appointments.filter(status__in=HOLDING_STATUSES, ends_at__lt=now - timedelta(days=1)).exists()

    sessions = TrainingSession.objects.all()
    assert sessions.filter(status=SessionStatus.SCHEDULED, starts_at__gt=now).count() >= 10
    assert sessions.filter(status=SessionStatus.HELD, ends_at__lt=now).exists()
    full = [
        session
        for session in sessions.filter(status=SessionStatus.SCHEDULED, starts_at__gt=now)
        if session.enrolments.filter(status=EnrolmentStatus.ENROLLED).count() == session.capacity
        and session.enrolments.filter(status=EnrolmentStatus.WAITLISTED).exists()
    ]
    assert full, "a full session with a waiting list"
    for session in sessions:
        seated = session.enrolments.filter(status__in=[EnrolmentStatus.ENROLLED, EnrolmentStatus.ATTENDED]).count()
        assert seated <= session.capacity
        if session.status == SessionStatus.HELD:
            assert not session.enrolments.filter(status=EnrolmentStatus.ENROLLED).exists()
    enrolments = set(Enrolment.objects.values_list("status", flat=True))
    assert {EnrolmentStatus.ENROLLED, EnrolmentStatus.WAITLISTED, EnrolmentStatus.ATTENDED} <= enrolments
    requests = TrainingRequest.objects.all()
    assert requests.filter(status=TrainingRequestStatus.OPEN).exists()
    for request in requests.exclude(status=TrainingRequestStatus.OPEN):
        assert request.handled_by_id and request.handled_at and request.outcome
        assert (request.enrolment_id is not None) == (request.status == TrainingRequestStatus.ARRANGED)

    alterations = Counter(Alteration.objects.values_list("status", flat=True))
    assert alterations[AlterationStatus.COLLECTED] and alterations[AlterationStatus.READY], alterations
    assert len(alterations) >= 4, alterations
    for alteration in Alteration.objects.all():
        assert alteration.order_line.product.alterable
        if alteration.status not in (AlterationStatus.REQUESTED, AlterationStatus.CANCELLED):
            assert alteration.measurements and alteration.measured_at, alteration.number
        if alteration.status in (AlterationStatus.READY, AlterationStatus.COLLECTED):
            assert alteration.ready_at and alteration.pickup_id, alteration.number


def test_no_associate_is_double_booked_and_each_booking_is_one_the_service_could_have_made():
    seed()

    assert_nobody_is_double_booked()
    lead = settings.APPOINTMENT_BOOKING_LEAD
    appointments = Appointment.objects.select_related("service_type", "associate", "location", "order_line__product")
    assert appointments.count() >= 20
    for appointment in appointments.prefetch_related("associate__working_hours", "associate__skills"):
        service_type = appointment.service_type
        duration, buffer = buffers(service_type)
        assert appointment.ends_at - appointment.starts_at == duration
        assert appointment.starts_at - appointment.blocked_from == buffer
        assert appointment.blocked_until - appointment.ends_at == buffer
        assert appointment.created_at <= appointment.starts_at - lead, appointment.number
        assert appointment.location_id == appointment.associate.home_location_id
        assert covers(service_type, appointment.order_line.product)
        skills = {skill.pk for skill in appointment.associate.skills.all()}
        assert set(service_type.skills.values_list("pk", flat=True)) <= skills
        assert bool(appointment.address_line1) == (service_type.place == ServicePlace.HOME)
        if appointment.status in HOLDING_STATUSES:  # still fits the week it was booked in
            zone = ZoneInfo(appointment.location.time_zone)
            start, end = appointment.blocked_from.astimezone(zone), appointment.blocked_until.astimezone(zone)
            assert any(
                hours.weekday == start.weekday() and hours.starts <= start.time() and end.time() <= hours.ends
                for hours in appointment.associate.working_hours.all()
            ), appointment.number


def test_each_alteration_has_its_own_service_order_that_balances_as_the_services_leave_it():
    seed()

    alterations = Alteration.objects.select_related("service_order", "kind__service_product", "pickup")
    assert alterations.exists()
    for alteration in alterations:
        order = alteration.service_order
        lines = list(order.lines.select_related("product"))
        assert len(lines) == 1 and lines[0].product == alteration.kind.service_product and lines[0].quantity == 1
        line = lines[0]
        assert order.fulfilment == FulfilmentMethod.PICKUP and order.customer_id == alteration.customer_id
        assert order.total == alteration.fee == line.amount and order.location_id == alteration.location_id
        ledger = ledger_of(order)
        cancelled = units_value(line, line.quantity_cancelled, order.currency)
        assert ledger.past + ledger.pending == order.total - cancelled, alteration.number
        charges = list(order.charges.order_by("id"))
        assert charges[0].kind == ChargeKind.AUTHORISATION and charges[0].status == ChargeStatus.PENDING
        assert charges[0].amount == order.total
        pickup = alteration.pickup
        if alteration.status == AlterationStatus.COLLECTED:
            assert pickup.status == PickupStatus.COLLECTED and pickup.collected_at == alteration.closed_at
            assert ledger.hold == 0 and ledger.paid == order.total and order.status == OrderStatus.DELIVERED
        elif alteration.status == AlterationStatus.READY:
            assert pickup.status == PickupStatus.READY and pickup.expires_at > timezone.now()
            assert ledger.hold == order.total and order.status == OrderStatus.PLACED
        elif alteration.status == AlterationStatus.CANCELLED:
            assert line.quantity_cancelled == 1 and ledger.hold == 0 and order.status == OrderStatus.CANCELLED
        else:
            assert pickup is None and ledger.hold == order.total
        if pickup is not None:
            assert secret_code_formatted(pickup.code) == pickup.code
            assert list(pickup.lines.values_list("order_line", "quantity")) == [(line.pk, 1)]
            assert pickup.order_id == order.pk and pickup.location_id == alteration.location_id


def test_touchpoints_link_to_their_rows_and_the_history_tells_each_step():
    seed()

    for model, kind in (
        (Appointment, TouchpointKind.INSTALLATION),
        (Enrolment, TouchpointKind.TRAINING),
        (Alteration, TouchpointKind.ALTERATION),
    ):
        rows = {row.pk: row for row in model.objects.all()}
        linked = Touchpoint.objects.filter(kind=kind, subject_type__model=model._meta.model_name)
        assert linked.exists(), model
        for touchpoint in linked:
            assert rows[touchpoint.subject_id].customer_id == touchpoint.customer_id
        assert set(linked.values_list("subject_id", flat=True)) == set(rows), model
    assert Touchpoint.objects.filter(kind=TouchpointKind.PICKUP, subject_type__model="pickup").exists()
    completed = Appointment.objects.filter(status=AppointmentStatus.COMPLETED).first()
    assert [change.what for change in appointment_history(completed)] == ["Booked", "In progress", "Completed"]
    transitions = StateTransition.objects.filter(subject_type__model="appointment", subject_id=completed.pk)
    assert list(transitions.order_by("at").values_list("transition", flat=True)) == ["start", "complete"]
    collected = Alteration.objects.filter(status=AlterationStatus.COLLECTED).first()
    steps = StateTransition.objects.filter(subject_type__model="alteration", subject_id=collected.pk)
    assert steps.order_by("at", "id").values_list("to_state", flat=True).last() == AlterationStatus.COLLECTED


def test_the_demo_associate_has_jobs_today_and_through_this_week(client):
    seed()
    user = User.objects.get(email=DEMO_ASSOCIATE)
    zone = ZoneInfo(user.associate.home_location.time_zone)
    today = timezone.localtime(timezone.now(), zone).date()
    midnight = datetime.combine(today, time.min, tzinfo=zone)
    monday = midnight - timedelta(days=today.weekday())
    mine = Appointment.objects.filter(associate=user.associate)

    todays = mine.filter(starts_at__gte=midnight, starts_at__lt=midnight + timedelta(days=1))
    assert todays.count() >= 2
    assert mine.filter(starts_at__gte=monday, starts_at__lt=monday + timedelta(days=7)).count() >= 5
    client.force_login(user)
    page = client.get(reverse("installations-pages:today"))
    assert page.status_code == 200
    assert all(number in page.content.decode() for number in todays.values_list("number", flat=True))


def test_the_app_customer_has_an_installation_coming_a_seat_and_trousers_to_collect():
    seed(0)
    customer = User.objects.get(email=DEMO_CUSTOMER).customer
    now = timezone.now()

    coming = Appointment.objects.get(customer=customer)
    assert coming.status == AppointmentStatus.SCHEDULED and coming.starts_at > now
    assert coming.booked_by.email == DEMO_CUSTOMER and coming.associate.user.email == DEMO_ASSOCIATE
    assert coming.order_line.order.deliveries.get().window_end <= coming.starts_at  # installed once delivered
    seats = Enrolment.objects.filter(customer=customer)
    assert seats.filter(status=EnrolmentStatus.ENROLLED, session__starts_at__gt=now).exists()
    assert seats.filter(status=EnrolmentStatus.ATTENDED).exists()
    trousers = Alteration.objects.get(customer=customer)
    assert trousers.status == AlterationStatus.READY and trousers.pickup.status == PickupStatus.READY
    assert trousers.order_line.product.sku == "RV-WOM-8002" and trousers.fee == Decimal("15.00")
    told = Touchpoint.objects.get(customer=customer, summary__startswith="Alteration booked for Wide-leg trousers")
    assert told.subject_id == trousers.pk  # the story's own words, linked to the work order


def test_a_larger_run_adds_only_the_new_customers_rows_and_a_second_run_adds_nothing():
    seed(120)
    first = installations_rows()
    catalogue = {model: model.objects.count() for model in (ServiceType, WorkingHours, TrainingSession, Absence)}

    seed()
    grown = installations_rows()
    output = seed()

    assert installations_rows() == grown
    assert "nothing (already seeded)" in output
    assert grown["Appointment"] > first["Appointment"]
    assert {model: model.objects.count() for model in catalogue} == catalogue
    assert_nobody_is_double_booked()
    for session in TrainingSession.objects.all():
        assert session.enrolments.filter(status=EnrolmentStatus.ENROLLED).count() <= session.capacity
