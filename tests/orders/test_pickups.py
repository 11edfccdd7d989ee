"""Pickups: the code, making goods ready (and reserving them), the hand-over against the code, the
sweep's reminder and no-show, cancellation, and what to suggest at the counter."""

import hmac
import re
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.utils import timezone

from core.choices import Channel, LocationKind, Role, TouchpointKind
from core.codes import CROCKFORD_ALPHABET, SECRET_CODE_BITS, secret_code, secret_code_normalise
from core.errors import Conflict, RuleViolation, TransitionNotAllowed
from core.models import Inventory, Notification, StateTransition, Touchpoint
from orders.choices import ChargeKind, FulfilmentMethod, OrderStatus, PickupStatus
from orders.models import Charge, Order, OrderLine, Pickup, PickupLine
from orders.selectors_pickups import due_today_q, pickup_suggestions
from orders.services.charges import ledger_of, units_value
from orders.services.pickups import claimable, pickup_cancel, pickup_hand_over, pickup_ready, pickups_sweep
from tests.factories import (
    AssociateProfileFactory,
    CategoryFactory,
    CustomerFactory,
    InventoryFactory,
    LocationFactory,
    ProductFactory,
    make_order,
    make_pickup,
)

pytestmark = pytest.mark.django_db

CODE_RE = re.compile(rf"^[{CROCKFORD_ALPHABET}]{{4}}-[{CROCKFORD_ALPHABET}]{{4}}-[{CROCKFORD_ALPHABET}]{{5}}$")


@pytest.fixture
def store():
    return LocationFactory(
        name="Utrecht Centrum",
        address_line1="Oudegracht 1",
        postcode="3511AA",
        city="Utrecht",
        opening_hours={"mon": [["09:00", "18:00"]], "sat": [["10:00", "17:00"]]},
    )


@pytest.fixture
def clerk(store):
    """An associate whose home is the store."""
    return AssociateProfileFactory(home_location=store, user__roles=[Role.ASSOCIATE]).user


def _stock(location, product):
    return Inventory.objects.get(location=location, product=product)


def _ledger_identity_holds(order: Order) -> bool:
    order.refresh_from_db()
    ledger = ledger_of(order)
    cancelled = sum(
        (units_value(line, line.quantity_cancelled, order.currency) for line in order.lines.all()), Decimal("0")
    )
    return ledger.past + ledger.pending == order.total - cancelled - ledger.credits


def _reload(pickup):
    """A fresh copy: the status is a protected FSM field, which refresh_from_db may not set."""
    return Pickup.objects.get(pk=pickup.pk)


def _expire_now(pickup):
    Pickup.objects.filter(pk=pickup.pk).update(expires_at=timezone.now() - timedelta(minutes=1))


# --- the code ---------------------------------------------------------------------------------


def test_secret_code_has_64_bits_or_more_in_a_readable_alphabet():
    codes = [secret_code() for _ in range(2000)]
    assert all(CODE_RE.match(code) for code in codes), codes[:3]
    assert all(len(code) <= Pickup._meta.get_field("code").max_length for code in codes)
    symbols = [c for code in codes for c in code.replace("-", "")]
    assert len(symbols) / len(codes) * 5 == SECRET_CODE_BITS >= 64  # 13 symbols of 5 bits each
    assert len(set(codes)) == len(codes)
    counts = Counter(symbols)  # every symbol turns up about 1/32 of the time: no symbol is favoured
    assert set(counts) == set(CROCKFORD_ALPHABET)
    assert min(counts.values()) > 0.6 * len(symbols) / 32
    assert not set("ILOU") & set(counts)


def test_typed_codes_are_read_as_the_symbols_they_stand_for():
    assert secret_code_normalise(" 0ab1-c2de-fghjk ") == "0AB1C2DEFGHJK"
    assert secret_code_normalise("oabl-c2de-fghjk") == "0AB1C2DEFGHJK"  # O read as 0, L as 1
    assert secret_code_normalise("OAB I C2DE FGHJK") == "0AB1C2DEFGHJK"


# --- making a pickup ready --------------------------------------------------------------------


def test_ready_reserves_every_open_unit_and_tells_the_customer_the_code_and_deadline(store, clerk):
    sofa, lamp = ProductFactory(name="Sofa"), ProductFactory(name="Lamp")
    before = timezone.now()
    pickup = make_pickup(location=store, actor=clerk, lines=[(sofa, 1, "300.00"), (lamp, 2, "20.00")], stock=5)

    assert pickup.status == PickupStatus.READY
    assert CODE_RE.match(pickup.code)
    assert before + settings.PICKUP_HOLD <= pickup.expires_at <= timezone.now() + settings.PICKUP_HOLD
    assert sorted(pickup.lines.values_list("order_line__product__name", "quantity")) == [("Lamp", 2), ("Sofa", 1)]
    assert (_stock(store, sofa).reserved, _stock(store, lamp).reserved) == (1, 2)
    assert (_stock(store, sofa).on_hand, _stock(store, lamp).on_hand) == (5, 5)

    touchpoint = Touchpoint.objects.get(kind=TouchpointKind.PICKUP)
    assert (touchpoint.channel, touchpoint.location, touchpoint.associate) == (Channel.STORE, store, clerk)
    assert (touchpoint.subject_type, touchpoint.subject_id) == (ContentType.objects.get_for_model(Pickup), pickup.pk)
    assert touchpoint.order_number == pickup.order.number
    assert pickup.code not in touchpoint.summary  # staff read the timeline; the code is the customer's

    message = Notification.objects.get(event="pickup_ready")
    assert message.dedupe_key.startswith(f"pickup-ready:{pickup.number}")
    assert pickup.code in message.body
    assert "Oudegracht 1, 3511AA Utrecht" in message.body
    assert "Monday: 09:00–18:00" in message.body and "Sunday: closed" in message.body
    deadline = timezone.localtime(pickup.expires_at, ZoneInfo("Europe/Amsterdam"))
    assert f"{deadline:%A %d %B %Y, %H:%M}" in message.body
    assert "Utrecht Centrum" in message.subject


def test_a_24_hour_locker_says_so_in_the_message():
    locker = LocationFactory(kind=LocationKind.LOCKER, name="P&R Station locker", open_24h=True)
    pickup = make_pickup(location=locker)

    body = Notification.objects.get(event="pickup_ready").body
    assert "P&R Station locker" in body  # plain text: nothing HTML-escaped
    assert "Open 24 hours a day, 7 days a week" in body
    assert "Enter it at the locker" in body
    assert pickup.code in body


def test_only_pickup_orders_can_be_made_ready(store, clerk):
    order = make_order(fulfilment=FulfilmentMethod.DELIVERY)
    InventoryFactory(product=order.lines.get().product, location=store)

    with pytest.raises(RuleViolation) as refused:
        pickup_ready(actor=clerk, order=order, location=store)

    assert refused.value.code == "not_a_pickup_order"
    assert not Pickup.objects.exists()
    assert Inventory.objects.get().reserved == 0


def test_ready_refuses_without_stock_there_and_reserves_nothing(store, clerk):
    sofa, lamp = ProductFactory(), ProductFactory()
    order = make_order(fulfilment=FulfilmentMethod.PICKUP, lines=[(sofa, 1, "300"), (lamp, 3, "20")])
    InventoryFactory(product=sofa, location=store, on_hand=1)

    with pytest.raises(RuleViolation) as missing:
        pickup_ready(actor=clerk, order=order, location=store)
    assert missing.value.code == "not_stocked_here"
    assert lamp.sku in missing.value.detail

    InventoryFactory(product=lamp, location=store, on_hand=2)
    with pytest.raises(RuleViolation) as short:
        pickup_ready(actor=clerk, order=order, location=store)
    assert short.value.code == "insufficient_stock"
    assert lamp.sku in short.value.detail

    assert not Pickup.objects.exists() and not PickupLine.objects.exists()
    assert _stock(store, sofa).reserved == 0  # the sofa's reservation went back with the refusal


def test_ready_refuses_places_customers_do_not_collect_from(clerk, manager):
    warehouse = LocationFactory(kind=LocationKind.WAREHOUSE)
    order = make_order(fulfilment=FulfilmentMethod.PICKUP)
    InventoryFactory(product=order.lines.get().product, location=warehouse)

    with pytest.raises(RuleViolation) as refused:
        pickup_ready(actor=manager, order=order, location=warehouse)
    assert refused.value.code == "not_a_pickup_location"


def test_associates_make_pickups_ready_at_their_home_location_only(store, associate, manager):
    order = make_order(fulfilment=FulfilmentMethod.PICKUP)
    InventoryFactory(product=order.lines.get().product, location=store)

    with pytest.raises(PermissionDenied):
        pickup_ready(actor=associate, order=order, location=store)  # the associate's home is elsewhere
    assert not Pickup.objects.exists()
    assert pickup_ready(actor=manager, order=order, location=store).status == PickupStatus.READY


def test_a_unit_cannot_wait_in_two_open_pickups(store, clerk):
    sofa = ProductFactory()
    pickup = make_pickup(location=store, actor=clerk, lines=[(sofa, 2, "100")])
    order = pickup.order
    line = order.lines.get()

    with pytest.raises(RuleViolation) as nothing_left:
        pickup_ready(actor=clerk, order=order, location=store)
    assert nothing_left.value.code == "nothing_to_pick_up"
    with pytest.raises(RuleViolation) as too_many:
        pickup_ready(actor=clerk, order=order, location=store, lines=[{"order_line": line, "quantity": 1}])
    assert too_many.value.code == "units_not_available"
    assert Pickup.objects.count() == 1
    assert _stock(store, sofa).reserved == 2

    pickup_cancel(actor=clerk, pickup=pickup, reason="Customer wants it delivered")
    again = pickup_ready(actor=clerk, order=order, location=store)
    assert again.lines.get().quantity == 2


def test_named_lines_take_part_of_the_order_and_the_rest_can_follow(store, clerk):
    sofa, lamp = ProductFactory(), ProductFactory()
    order = make_order(fulfilment=FulfilmentMethod.PICKUP, lines=[(sofa, 1, "300"), (lamp, 3, "20")])
    for product in (sofa, lamp):
        InventoryFactory(product=product, location=store)
    lamp_line = order.lines.get(product=lamp)

    first = pickup_ready(actor=clerk, order=order, location=store, lines=[{"order_line": lamp_line.pk, "quantity": 2}])
    rest = pickup_ready(actor=clerk, order=order, location=store)

    assert list(first.lines.values_list("order_line__product", "quantity")) == [(lamp.pk, 2)]
    assert sorted(rest.lines.values_list("order_line__product", "quantity")) == sorted([(sofa.pk, 1), (lamp.pk, 1)])
    assert _stock(store, lamp).reserved == 3


@pytest.mark.parametrize(
    ("lines", "code"),
    [
        ([], "no_lines"),
        ([{"order_line": 10**9, "quantity": 1}], "line_not_in_order"),
        ("twice", "duplicate_line"),
        ("zero", "units_not_available"),
    ],
)
def test_ready_refuses_lines_that_do_not_fit_the_order(store, clerk, lines, code):
    order = make_order(fulfilment=FulfilmentMethod.PICKUP)
    line = order.lines.get()
    InventoryFactory(product=line.product, location=store)
    if lines == "twice":
        lines = [{"order_line": line.pk, "quantity": 1}, {"order_line": line.pk, "quantity": 1}]
    elif lines == "zero":
        lines = [{"order_line": line.pk, "quantity": 0}]

    with pytest.raises(RuleViolation) as refused:
        pickup_ready(actor=clerk, order=order, location=store, lines=lines)

    assert refused.value.code == code
    assert not Pickup.objects.exists()


# --- hand-over --------------------------------------------------------------------------------


def _snapshot(pickup):
    return (
        list(Pickup.objects.filter(pk=pickup.pk).values()),
        list(OrderLine.objects.filter(order=pickup.order).values()),
        list(Inventory.objects.order_by("pk").values("on_hand", "reserved")),
        Charge.objects.count(),
        StateTransition.objects.count(),
        Touchpoint.objects.count(),
    )


def test_a_wrong_code_changes_nothing(store, clerk):
    pickup = make_pickup(location=store, actor=clerk)
    before = _snapshot(pickup)
    wrong = secret_code()

    with pytest.raises(RuleViolation) as refused:
        pickup_hand_over(actor=clerk, pickup=pickup, code=wrong)

    assert (refused.value.code, refused.value.status) == ("wrong_pickup_code", 422)
    assert _snapshot(pickup) == before


def test_the_code_is_compared_in_constant_time(store, clerk, monkeypatch):
    pickup = make_pickup(location=store, actor=clerk)
    compared = []
    real = hmac.compare_digest

    def spy(a, b):
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    pickup_hand_over(actor=clerk, pickup=pickup, code=pickup.code)

    assert compared == [(pickup.code.replace("-", "").encode(),) * 2]


def test_the_code_may_be_typed_in_lower_case_without_dashes(store, clerk):
    pickup = make_pickup(location=store, actor=clerk)
    typed = pickup.code.replace("-", " ").lower().replace("0", "o").replace("1", "l")

    assert pickup_hand_over(actor=clerk, pickup=pickup, code=typed).status == PickupStatus.COLLECTED


def test_hand_over_delivers_the_units_takes_them_off_the_shelf_and_captures_the_hold(store, clerk):
    sofa = ProductFactory()
    pickup = make_pickup(location=store, actor=clerk, lines=[(sofa, 2, "150.00")], stock=5)
    order = pickup.order
    assert ledger_of(order).hold == Decimal("300.00")

    collected = pickup_hand_over(actor=clerk, pickup=pickup, code=pickup.code)

    assert collected.status == PickupStatus.COLLECTED
    assert (collected.collected_by, collected.closed_at) == (clerk, collected.collected_at)
    line = order.lines.get()
    assert (line.quantity_delivered, line.quantity_shipped) == (2, 2)
    assert (_stock(store, sofa).on_hand, _stock(store, sofa).reserved) == (3, 0)
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    capture = Charge.objects.get(order=order, kind=ChargeKind.CAPTURE)
    assert (capture.amount, capture.actor) == (Decimal("300.00"), clerk)
    assert ledger_of(order).hold == 0
    assert _ledger_identity_holds(order)
    transition = StateTransition.objects.get(subject_id=pickup.pk, transition="collect")
    assert (transition.actor, transition.from_state, transition.to_state) == (clerk, "ready", "collected")
    assert Touchpoint.objects.filter(kind=TouchpointKind.PICKUP, summary__startswith="Collected 2 items").exists()


def test_handing_over_part_of_an_order_leaves_it_partially_delivered(store, clerk):
    sofa, lamp = ProductFactory(), ProductFactory()
    order = make_order(fulfilment=FulfilmentMethod.PICKUP, lines=[(sofa, 1, "300"), (lamp, 1, "20")])
    for product in (sofa, lamp):
        InventoryFactory(product=product, location=store)
    pickup = pickup_ready(
        actor=clerk, order=order, location=store, lines=[{"order_line": order.lines.get(product=lamp), "quantity": 1}]
    )

    pickup_hand_over(actor=clerk, pickup=pickup, code=pickup.code)

    order.refresh_from_db()
    assert order.status == OrderStatus.PARTIALLY_DELIVERED
    assert Charge.objects.get(order=order, kind=ChargeKind.CAPTURE).amount == Decimal("20.00")
    assert _ledger_identity_holds(order)


def test_units_captured_when_they_shipped_are_not_captured_again(store, clerk):
    paid = make_pickup(
        location=store, actor=clerk, payments=[{"kind": ChargeKind.CAPTURE, "amount": Decimal("300.00")}]
    )
    shipped = make_pickup(location=store, actor=clerk)
    OrderLine.objects.filter(order=shipped.order).update(quantity_shipped=1)  # went out by carrier: captured then
    Charge.objects.create(
        order=shipped.order,
        kind=ChargeKind.CAPTURE,
        status="settled",
        amount=300,
        currency="EUR",
        settled_at=timezone.now(),
    )
    Charge.objects.create(
        order=shipped.order, kind=ChargeKind.AUTHORISATION, status="pending", amount=-300, currency="EUR"
    )

    for pickup in (paid, shipped):
        pickup_hand_over(actor=clerk, pickup=pickup, code=pickup.code)

    assert Charge.objects.filter(order=paid.order, kind=ChargeKind.CAPTURE).count() == 1
    assert Charge.objects.filter(order=shipped.order, kind=ChargeKind.CAPTURE).count() == 1
    assert _ledger_identity_holds(paid.order) and _ledger_identity_holds(shipped.order)


def test_an_expired_or_collected_pickup_cannot_be_handed_over(store, clerk):
    pickup = make_pickup(location=store, actor=clerk)
    _expire_now(pickup)
    pickups_sweep()

    with pytest.raises(TransitionNotAllowed) as refused:
        pickup_hand_over(actor=clerk, pickup=pickup, code=pickup.code)
    assert refused.value.status == 409
    assert refused.value.extra == {"allowed": [], "state": "expired"}
    assert "allowed: none" in refused.value.detail

    other = make_pickup(location=store, actor=clerk)
    pickup_hand_over(actor=clerk, pickup=other, code=other.code)
    with pytest.raises(TransitionNotAllowed):
        pickup_hand_over(actor=clerk, pickup=other, code=other.code)
    assert _stock(store, other.order.lines.get().product).on_hand == 9  # taken off the shelf once


def test_hand_over_refuses_when_the_reserved_stock_is_gone(store, clerk):
    pickup = make_pickup(location=store, actor=clerk)
    Inventory.objects.filter(location=store).update(reserved=0)  # counted away by hand
    before = _snapshot(pickup)

    with pytest.raises(Conflict) as refused:
        pickup_hand_over(actor=clerk, pickup=pickup, code=pickup.code)

    assert refused.value.code == "reservation_missing"
    assert _snapshot(pickup) == before


def test_associates_hand_over_at_their_home_location_only(store, associate, manager):
    pickup = make_pickup(location=store)
    before = _snapshot(pickup)

    with pytest.raises(PermissionDenied):
        pickup_hand_over(actor=associate, pickup=pickup, code=pickup.code)
    assert _snapshot(pickup) == before
    assert pickup_hand_over(actor=manager, pickup=pickup, code=pickup.code).collected_by == manager


# --- cancel -----------------------------------------------------------------------------------


def test_cancel_gives_the_reservation_back_and_keeps_the_units_open(store, agent):
    pickup = make_pickup(location=store)
    product = pickup.order.lines.get().product

    cancelled = pickup_cancel(actor=agent, pickup=pickup, reason="Customer wants home delivery")

    assert cancelled.status == PickupStatus.CANCELLED and cancelled.closed_at
    assert _stock(store, product).reserved == 0
    line = pickup.order.lines.get()
    assert (line.quantity_cancelled, line.quantity_delivered) == (0, 0)
    assert StateTransition.objects.get(transition="cancel").reason == "Customer wants home delivery"
    other = make_pickup(location=store, lines=[(product, 1, "300")])
    with pytest.raises(RuleViolation):
        pickup_cancel(actor=agent, pickup=other, reason="  ")
    with pytest.raises(TransitionNotAllowed):
        pickup_cancel(actor=agent, pickup=pickup, reason="again")
    assert _stock(store, product).reserved == 1  # the other pickup's unit, held still


# --- the sweep --------------------------------------------------------------------------------


def test_the_reminder_goes_once_shortly_before_the_deadline(store):
    due = make_pickup(location=store)
    later = make_pickup(location=store)
    Pickup.objects.filter(pk=due.pk).update(expires_at=timezone.now() + settings.PICKUP_REMINDER_BEFORE / 2)

    assert pickups_sweep() == {"reminded": 1, "expired": 0, "failed": 0}
    assert pickups_sweep() == {"reminded": 0, "expired": 0, "failed": 0}

    reminders = Notification.objects.filter(event="pickup_reminder")
    assert [n.customer_id for n in reminders] == [due.customer_id]
    assert due.code in reminders.get().body
    due = _reload(due)
    later = _reload(later)
    assert due.reminded_at is not None and later.reminded_at is None


def test_a_no_show_releases_the_stock_cancels_the_units_and_releases_the_hold(store):
    sofa = ProductFactory()
    pickup = make_pickup(location=store, lines=[(sofa, 2, "150.00")], stock=5)
    order = pickup.order
    _expire_now(pickup)

    assert pickups_sweep() == {"reminded": 0, "expired": 1, "failed": 0}

    pickup = _reload(pickup)
    assert pickup.status == PickupStatus.EXPIRED and pickup.closed_at
    assert (_stock(store, sofa).on_hand, _stock(store, sofa).reserved) == (5, 0)
    assert order.lines.get().quantity_cancelled == 2
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert ledger_of(order).hold == 0 and ledger_of(order).pending == 0
    assert _ledger_identity_holds(order)
    message = Notification.objects.get(event="pickup_expired")
    assert "300.00 EUR held on your card is released" in message.body
    assert pickup.code not in message.body
    assert Touchpoint.objects.filter(kind=TouchpointKind.PICKUP, summary__startswith="Not collected").exists()
    assert StateTransition.objects.get(transition="expire").actor is None


def test_a_no_show_on_a_paid_order_is_refunded_through_the_ledger(store):
    pickup = make_pickup(location=store, payments=[{"kind": ChargeKind.CAPTURE, "amount": Decimal("300.00")}])
    _expire_now(pickup)

    pickups_sweep()

    refund = Charge.objects.get(order=pickup.order, kind=ChargeKind.REFUND)
    assert (refund.amount, refund.status) == (Decimal("-300.00"), "pending")
    assert pickup.number in refund.note
    assert _ledger_identity_holds(pickup.order)
    assert "refunding 300.00 EUR" in Notification.objects.get(event="pickup_expired").body


def test_a_no_show_cancels_only_the_units_that_waited(store):
    sofa, lamp = ProductFactory(), ProductFactory()
    order = make_order(fulfilment=FulfilmentMethod.PICKUP, lines=[(sofa, 1, "300"), (lamp, 1, "20")])
    for product in (sofa, lamp):
        InventoryFactory(product=product, location=store)
    pickup = pickup_ready(
        actor=None, order=order, location=store, lines=[{"order_line": order.lines.get(product=lamp), "quantity": 1}]
    )
    _expire_now(pickup)

    pickups_sweep()

    order.refresh_from_db()
    assert order.status == OrderStatus.PLACED
    assert dict(order.lines.values_list("product", "quantity_cancelled")) == {sofa.pk: 0, lamp.pk: 1}
    assert ledger_of(order).hold == Decimal("300.00")
    assert _ledger_identity_holds(order)


def test_the_sweep_is_idempotent(store):
    pickups = [make_pickup(location=store) for _ in range(3)]
    for pickup in pickups[:2]:
        _expire_now(pickup)
    Pickup.objects.filter(pk=pickups[2].pk).update(expires_at=timezone.now() + timedelta(hours=1))

    def everything():
        return [
            list(model.objects.order_by("pk").values())
            for model in (Pickup, OrderLine, Inventory, Charge, Notification, Touchpoint, StateTransition)
        ]

    assert pickups_sweep() == {"reminded": 1, "expired": 2, "failed": 0}
    after_first = everything()
    assert pickups_sweep() == {"reminded": 0, "expired": 0, "failed": 0}
    assert everything() == after_first


def test_a_pickup_the_sweep_cannot_close_is_left_ready_and_the_others_go_on(store, caplog):
    broken, fine = make_pickup(location=store), make_pickup(location=store)
    for pickup in (broken, fine):
        _expire_now(pickup)
    Inventory.objects.filter(product=broken.order.lines.get().product).update(reserved=0)  # counted away by hand

    assert pickups_sweep() == {"reminded": 0, "expired": 1, "failed": 1}

    broken = _reload(broken)
    fine = _reload(fine)
    assert (broken.status, fine.status) == (PickupStatus.READY, PickupStatus.EXPIRED)
    assert broken.order.lines.get().quantity_cancelled == 0  # its savepoint rolled back whole
    assert not Charge.objects.filter(order=broken.order).exclude(note="").exists()
    assert broken.number in caplog.text


def test_the_sweep_works_in_batches(store, monkeypatch):
    monkeypatch.setattr("orders.services.pickups.SWEEP_BATCH", 2)
    for _ in range(5):
        make_pickup(location=store)
    Pickup.objects.update(expires_at=timezone.now() - timedelta(minutes=1))

    assert pickups_sweep()["expired"] == 5  # three batches of at most two
    assert set(Pickup.objects.values_list("status", flat=True)) == {PickupStatus.EXPIRED}


@pytest.mark.postgres
def test_the_sweep_walks_the_ready_expiry_index_on_postgresql(store):
    if connection.vendor != "postgresql":
        pytest.skip("the partial index and its plan are PostgreSQL's")
    make_pickup(location=store)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a table this small would be scanned whole
    now = timezone.now()

    for due in (
        Pickup.objects.filter(expires_at__lte=now),
        Pickup.objects.filter(reminded_at__isnull=True, expires_at__gt=now, expires_at__lte=now + timedelta(days=1)),
    ):
        plan = claimable(due).explain()
        assert "pickup_ready_expiry" in plan, plan


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_sweeps_close_each_no_show_once():
    if connection.vendor != "postgresql":
        pytest.skip("real concurrent sweeps need PostgreSQL; SQLite serialises every write")
    store = LocationFactory()
    pickups = [make_pickup(location=store) for _ in range(6)]
    Pickup.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    barrier = threading.Barrier(3)
    results = []

    def sweep():
        barrier.wait()
        try:
            results.append(pickups_sweep())
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sum(r["expired"] for r in results) == 6
    assert sum(r["failed"] for r in results) == 0
    for pickup in pickups:
        releases = Charge.objects.filter(order=pickup.order, kind=ChargeKind.AUTHORISATION, note="released")
        assert releases.count() == 1
        assert _ledger_identity_holds(pickup.order)
    assert set(Inventory.objects.values_list("reserved", flat=True)) == {0}


# --- due today ---------------------------------------------------------------------------------


def test_due_today_is_today_in_each_locations_time_zone():
    now = datetime(2026, 3, 10, 11, 30, tzinfo=UTC)  # 11 March 01:30 in Kiritimati, 10 March 00:30 in Pago Pago
    east = LocationFactory(time_zone="Pacific/Kiritimati")  # UTC+14
    west = LocationFactory(time_zone="Pacific/Pago_Pago")  # UTC-11
    expiries = {
        ("east", "due"): (east, datetime(2026, 3, 11, 6, 0, tzinfo=UTC)),  # 11 March 20:00 there
        ("east", "yesterday"): (east, datetime(2026, 3, 10, 6, 0, tzinfo=UTC)),  # 10 March there, today in UTC
        ("west", "due"): (west, datetime(2026, 3, 11, 7, 0, tzinfo=UTC)),  # 10 March 20:00 there
        ("west", "tomorrow"): (west, datetime(2026, 3, 11, 21, 0, tzinfo=UTC)),  # 11 March 10:00 there
    }
    ids = {}
    for key, (location, expires_at) in expiries.items():
        pickup = make_pickup(location=location)
        Pickup.objects.filter(pk=pickup.pk).update(expires_at=expires_at)
        ids[key] = pickup.pk
    collected = make_pickup(location=east)
    Pickup.objects.filter(pk=collected.pk).update(expires_at=expiries[("east", "due")][1], status="collected")

    due = set(Pickup.objects.filter(due_today_q(now)).values_list("pk", flat=True))

    assert due == {ids[("east", "due")], ids[("west", "due")]}


# --- suggestions -------------------------------------------------------------------------------


@pytest.fixture
def catalogue(store):
    """A customer collecting a sofa (furniture) who bought lighting before."""
    furniture = CategoryFactory(slug="furniture", name="Furniture")
    lighting = CategoryFactory(slug="lighting", name="Lighting")
    garden = CategoryFactory(slug="garden", name="Garden")
    customer = CustomerFactory()
    sofa = ProductFactory(name="Sofa", category=furniture, price=Decimal("900"), installable=True, trainable=True)
    old_lamp = ProductFactory(name="Old lamp", category=lighting, price=Decimal("30"))
    make_order(customer=customer, lines=[(old_lamp, 1, "30")])

    def stocked(name, category, price, on_hand=3, reserved=0, **flags):
        product = ProductFactory(name=name, category=category, price=Decimal(price), **flags)
        InventoryFactory(product=product, location=store, on_hand=on_hand, reserved=reserved)
        return product

    products = {
        "cushion": stocked("Cushion", furniture, "25"),
        "footstool": stocked("Footstool", furniture, "80"),
        "side table": stocked("Side table", furniture, "60"),
        "lamp shade": stocked("Lamp shade", lighting, "15"),
        "floor lamp": stocked("Floor lamp", lighting, "120"),
        "sold out throw": stocked("Throw", furniture, "10", on_hand=2, reserved=2),
        "inactive": stocked("Old stool", furniture, "5", is_active=False),
        "parasol": stocked("Parasol", garden, "20"),
    }
    InventoryFactory(product=old_lamp, location=store)  # bought before: never suggested again
    InventoryFactory(product=ProductFactory(name="Far cushion", category=furniture, price=1))  # another store
    pickup = make_pickup(location=store, customer=customer, lines=[(sofa, 1, "900")])
    return pickup, products, sofa


def test_suggestions_rank_same_category_first_then_categories_bought_before_cheapest_first(catalogue):
    pickup, _, _ = catalogue

    suggestions = pickup_suggestions(pickup, limit=10)

    assert [s.product.name for s in suggestions.products] == [
        "Cushion",
        "Side table",
        "Footstool",
        "Lamp shade",
        "Floor lamp",
    ]
    assert [s.reason for s in suggestions.products] == ["same_category"] * 3 + ["category_bought_before"] * 2
    assert suggestions.products[0].available == 3
    assert [s.product.name for s in pickup_suggestions(pickup, limit=2).products] == ["Cushion", "Side table"]


def test_suggestions_leave_out_what_the_customer_bought_or_cannot_take_home(catalogue):
    pickup, products, _ = catalogue
    make_order(customer=pickup.customer, lines=[(products["cushion"], 1, "25")], fulfilment=FulfilmentMethod.CARRY_OUT)

    names = {s.product.name for s in pickup_suggestions(pickup, limit=20).products}

    assert "Cushion" not in names  # bought since
    assert not names & {"Sofa", "Old lamp", "Throw", "Old stool", "Parasol", "Far cushion"}


def test_suggestions_offer_the_services_the_collected_products_allow(catalogue):
    pickup, _, sofa = catalogue

    services = pickup_suggestions(pickup).services

    assert [(s.service, s.product) for s in services] == [("installation", sofa), ("training", sofa)]
    assert services[0].title == "Book installation: Sofa"


def test_suggestions_run_a_fixed_number_of_queries(store, django_assert_num_queries):
    category = CategoryFactory(slug="kitchen", name="Kitchen")
    small = make_pickup(location=store, lines=[(ProductFactory(category=category), 1, "10")])
    many = make_pickup(location=store, lines=[(ProductFactory(category=category), 1, "10") for _ in range(8)])
    for _ in range(10):
        InventoryFactory(product=ProductFactory(category=category), location=store)

    with django_assert_num_queries(2):
        assert len(pickup_suggestions(small).products) == 5
    with django_assert_num_queries(2):
        assert len(pickup_suggestions(many).products) == 5


# --- services sold beside goods -----------------------------------------------------------------


def test_a_service_sold_holds_no_stock_and_outlives_a_no_show_while_the_goods_are_cancelled():
    store = LocationFactory()
    chair = ProductFactory(name="Chair", price=Decimal("100.00"))
    fitting = ProductFactory(name="Cushion fitting", price=Decimal("20.00"), stocked=False)
    pickup = make_pickup(location=store, lines=[(chair, 1, "100.00"), (fitting, 1, "20.00")])
    Inventory.objects.filter(product=fitting).delete()  # nobody keeps a stock row for a service

    assert Inventory.objects.get(product=chair, location=store).reserved == 1
    pickups_sweep(now=pickup.expires_at + timedelta(minutes=1))

    lines = {line.product_id: line for line in pickup.order.lines.all()}
    assert lines[chair.pk].quantity_cancelled == 1
    assert lines[fitting.pk].quantity_cancelled == 0  # done for the customer: still owed
    assert Inventory.objects.get(product=chair, location=store).reserved == 0
    assert ledger_of(pickup.order).pending == Decimal("20.00")
    message = Notification.objects.get(event="pickup_expired")
    assert "Chair" in message.body and "kept safe" in message.body and "Cushion fitting" in message.body
