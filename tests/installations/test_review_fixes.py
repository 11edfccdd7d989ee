"""Rules a review found missing: units taken under a lock, the quality check's four eyes, a fee
order only its work order changes, an alteration its pickups-page hand-over closes even without
the event, stock reservations that follow the pickup rather than the product's flag, and bad input
that must not become a 500."""

import uuid

import pytest
from django.db import connection
from rest_framework.test import APIClient

from core import events
from core.errors import Conflict, RuleViolation
from core.models import Inventory
from installations.choices import AlterationStatus, AppointmentStatus
from installations.models import Alteration, Appointment
from installations.services import appointment_cancel, appointment_request
from installations.services_alterations import (
    alteration_assign,
    alteration_collect,
    alteration_collected_with_pickup,
    alteration_measure,
    alteration_pickup_renew,
    alteration_quality_check,
    alteration_request,
    alteration_start,
    alteration_submit,
)
from orders.models import Pickup
from orders.services.pickups import pickup_cancel, pickup_hand_over
from tests.factories import AssociateProfileFactory, LocationFactory, ProductFactory, make_pickup
from tests.installations.test_booking import _race


def _post(client, url, body=None, key=True):
    headers = {"HTTP_IDEMPOTENCY_KEY": str(uuid.uuid4())} if key else {}
    return client.post(url, body or {}, format="json", **headers)


def _client(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def _take(shop, actor=None):
    return alteration_request(
        actor=actor or shop["checker"].user,
        order_line=shop["line"],
        kind=shop["kind"],
        location=shop["store"],
        specification="Shorten by 3 cm",
    )


def _ready(shop):
    tailor = shop["tailor"].user
    alteration = alteration_measure(actor=tailor, alteration=_take(shop), measurements={"leg": "78"})
    alteration = alteration_assign(actor=tailor, alteration=alteration, associate=shop["tailor"])
    alteration = alteration_submit(actor=tailor, alteration=alteration_start(actor=tailor, alteration=alteration))
    return alteration_quality_check(actor=shop["checker"].user, alteration=alteration, passed=True)


# --- units under a lock (PostgreSQL) ------------------------------------------------------------


def _pg_only():
    if connection.vendor != "postgresql":
        pytest.skip("real concurrent connections need PostgreSQL; SQLite serialises every write")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_alteration_requests_never_take_more_units_than_bought(shop):
    _pg_only()

    taken, refused = _race(lambda i: _take(shop), 6)

    assert len(taken) == 1 and len(refused) == 5  # one pair of trousers bought
    assert {exc.code for exc in refused} == {"units_already_ordered"}
    assert Alteration.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_appointment_requests_never_take_more_units_than_bought(setup):
    _pg_only()

    def ask(i):
        return appointment_request(
            actor=None,
            order_line=setup["line"],
            service_type=setup["service"],
            location=setup["store"],
            address=setup["address"],
        )

    asked, refused = _race(ask, 8)

    assert len(asked) == 4 and len(refused) == 4  # four ovens bought
    assert Appointment.objects.count() == 4


# --- the four eyes ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_work_submitted_for_its_check_is_not_handed_on_and_nobody_who_worked_it_passes_it(shop):
    tailor, checker = shop["tailor"], shop["checker"]
    helper = AssociateProfileFactory(home_location=shop["store"], user__roles=["associate"])
    helper.skills.add(shop["sewing"])
    alteration = alteration_measure(actor=tailor.user, alteration=_take(shop), measurements={"leg": "78"})
    alteration = alteration_assign(actor=tailor.user, alteration=alteration, associate=helper)
    alteration = alteration_start(actor=tailor.user, alteration=alteration)  # the tailor started it
    alteration = alteration_submit(actor=tailor.user, alteration=alteration)

    with pytest.raises(Conflict):
        alteration_assign(actor=tailor.user, alteration=alteration, associate=tailor)
    for worker in (tailor.user, helper.user):
        with pytest.raises(RuleViolation) as own:
            alteration_quality_check(actor=worker, alteration=alteration, passed=True)
        assert own.value.code == "own_work"

    passed = alteration_quality_check(actor=checker.user, alteration=alteration, passed=True)
    assert passed.status == AlterationStatus.READY


# --- the fee order belongs to its work order ------------------------------------------------------


@pytest.mark.django_db
def test_the_fee_order_is_not_cancelled_or_made_ready_by_the_order_endpoints(shop, manager_client):
    alteration = _take(shop)
    fee = alteration.service_order

    cancelled = _post(
        manager_client,
        f"/api/v1/orders/{fee.pk}/cancel-lines/",
        {"lines": [{"line": fee.lines.get().pk, "quantity": 1}], "reason": "no"},
    )
    made_ready = _post(manager_client, "/api/v1/pickups/", {"order": fee.pk, "location": shop["store"].pk})

    assert cancelled.status_code == made_ready.status_code == 422
    assert cancelled.json()["code"] == made_ready.json()["code"] == "service_order"
    assert fee.lines.get().quantity_cancelled == 0 and not Pickup.objects.exists()


# --- a hand-over on the pickups page, event or no event -------------------------------------------


@pytest.mark.django_db
def test_an_alteration_handed_over_elsewhere_is_closed_by_its_next_step_even_if_the_event_was_lost(shop):
    alteration = _ready(shop)
    events.unsubscribe("pickup.collected", alteration_collected_with_pickup)
    try:
        pickup_hand_over(actor=shop["checker"].user, pickup=alteration.pickup, code=alteration.pickup.code)
    finally:
        events.subscribe("pickup.collected", alteration_collected_with_pickup)
    assert Alteration.objects.get().status == AlterationStatus.READY  # the event never came

    closed = alteration_pickup_renew(actor=shop["checker"].user, alteration=alteration)

    assert closed.status == AlterationStatus.COLLECTED
    assert Pickup.objects.count() == 1  # no second pickup for an item already gone


@pytest.mark.django_db
def test_collecting_an_alteration_whose_pickup_was_handed_over_closes_it_without_a_second_capture(shop):
    alteration = _ready(shop)
    events.unsubscribe("pickup.collected", alteration_collected_with_pickup)
    try:
        pickup_hand_over(actor=shop["checker"].user, pickup=alteration.pickup, code=alteration.pickup.code)
    finally:
        events.subscribe("pickup.collected", alteration_collected_with_pickup)
    captures = alteration.service_order.charges.filter(kind="capture").count()

    closed = alteration_collect(actor=shop["checker"].user, alteration=alteration, code="anything")

    assert closed.status == AlterationStatus.COLLECTED
    assert alteration.service_order.charges.filter(kind="capture").count() == captures == 1


# --- stock follows the pickup, not the product's flag ----------------------------------------------


@pytest.mark.django_db
def test_a_product_no_longer_stocked_still_gives_back_what_its_pickup_reserved():
    store = LocationFactory()
    lamp = ProductFactory(name="Lamp")
    pickup = make_pickup(location=store, lines=[(lamp, 1, "40.00")])
    assert Inventory.objects.get(product=lamp, location=store).reserved == 1
    lamp.stocked = False
    lamp.save()

    pickup_cancel(actor=None, pickup=Pickup.objects.get(pk=pickup.pk), reason="Damaged in the back room")

    assert Inventory.objects.get(product=lamp, location=store).reserved == 0


# --- the API's bars ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_collecting_or_cancelling_moves_money_so_it_needs_an_idempotency_key(shop):
    alteration = _ready(shop)
    checker = _client(shop["checker"].user)

    collected = _post(checker, f"/api/v1/alterations/{alteration.pk}/collect/", {"code": "x"}, key=False)
    cancelled = _post(checker, f"/api/v1/alterations/{alteration.pk}/cancel/", {"reason": "x"}, key=False)

    assert collected.status_code == cancelled.status_code == 400
    assert Alteration.objects.get().status == AlterationStatus.READY


@pytest.mark.django_db
def test_an_associate_takes_requests_for_their_own_store_only(setup, associate_client):
    response = _post(
        associate_client,
        "/api/v1/appointments/request/",
        {
            "order_line": setup["line"].pk,
            "service_type": setup["service"].pk,
            "location": setup["store"].pk,
            "address": setup["address"].pk,
        },
    )

    assert response.status_code == 403 and not Appointment.objects.exists()


@pytest.mark.django_db
def test_a_request_cancelled_before_it_had_a_time_stays_out_of_the_day_plans(setup):
    asked = appointment_request(
        actor=None,
        order_line=setup["line"],
        service_type=setup["service"],
        location=setup["store"],
        address=setup["address"],
    )
    appointment_cancel(actor=None, appointment=asked, reason="Did it myself")
    fitter = _client(setup["fitter"].user)

    listed = fitter.get("/api/v1/appointments/?page_size=1")

    assert listed.status_code == 200 and listed.json()["results"] == []
    assert Appointment.objects.get().status == AppointmentStatus.CANCELLED


@pytest.mark.django_db
def test_odd_digits_in_a_slot_are_refused_not_a_500(setup, client):
    asked = appointment_request(
        actor=None,
        order_line=setup["line"],
        service_type=setup["service"],
        location=setup["store"],
        address=setup["address"],
    )
    client.force_login(setup["fitter"].user)

    response = client.post(
        f"/installations/appointments/{asked.number}/schedule/", {"slot": "²|2030-01-07T10:00:00+01:00"}
    )

    assert response.status_code < 500
    assert Appointment.objects.get().status == AppointmentStatus.REQUESTED


@pytest.mark.django_db
@pytest.mark.parametrize("measurements", [{"leg\x00": "78"}, {"leg": "7\x008"}])
def test_a_nul_in_a_measurement_is_refused(shop, measurements):
    alteration = _take(shop)
    tailor = _client(shop["tailor"].user)

    response = _post(tailor, f"/api/v1/alterations/{alteration.pk}/measure/", {"measurements": measurements})

    assert 400 <= response.status_code < 500
    assert Alteration.objects.get().measurements == {}


@pytest.mark.django_db
def test_a_fee_sold_as_a_returnable_product_is_refused(shop):
    service = shop["kind"].service_product
    service.returnable = True
    service.save()

    with pytest.raises(RuleViolation) as refused:
        _take(shop)

    assert refused.value.code == "kind_misconfigured"
