"""The associate pages for orders: the order, the delivery-problem queue, orders at risk, pickups."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.throttling import SimpleRateThrottle

from orders.choices import ExceptionStatus, PickupStatus
from orders.models import DeliveryException, Order, Pickup
from orders.services.deliveries import delivery_record, delivery_schedule
from orders.services.pickups import pickup_ready
from tests.factories import (
    AssociateProfileFactory,
    CustomerAddressFactory,
    CustomerFactory,
    InventoryFactory,
    LocationFactory,
    ProductFactory,
    UserFactory,
    make_order,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return LocationFactory(kind="store", name="Ravelijn Utrecht")


@pytest.fixture
def associate_at_store(store):
    return AssociateProfileFactory(home_location=store, user__roles=["associate"], approval_limit=Decimal("50")).user


@pytest.fixture
def signed_in(client, associate_at_store):
    client.force_login(associate_at_store)
    return client


@pytest.fixture
def short_sofa():
    """The sofa set that arrived one piece short: an open shortfall."""
    customer = CustomerFactory(given_name="Emma")
    CustomerAddressFactory(customer=customer)
    pieces = [ProductFactory(name=name) for name in ("Corner module", "Armless module", "Chaise module")]
    order = make_order(customer=customer, lines=[(piece, 1, "400.00") for piece in pieces], fulfilment="delivery")
    start = timezone.now() + timedelta(days=3)
    delivery = delivery_schedule(
        actor=None,
        order=order,
        window_start=start,
        window_end=start + timedelta(hours=4),
        address=customer.addresses.first(),
    )
    counted = [
        {
            "order_line": line.order_line_id,
            "quantity_received": 0 if line.order_line.product.name == "Corner module" else 1,
            "condition": "good",
        }
        for line in delivery.lines.select_related("order_line__product")
    ]
    delivery_record(actor=None, delivery=delivery, lines=counted)
    return order


def test_the_order_page_shows_everything_that_followed(signed_in, short_sofa):
    page = signed_in.get(f"/orders/{short_sofa.number}/").content.decode()
    for text in ("Corner module", "Delivery problems", "Items missing", "Charges", "Messages sent", "1200.00"):
        assert text in page


def test_the_queue_shows_the_shortfall_and_a_remedy_resolves_it(signed_in, short_sofa):
    page = signed_in.get("/exceptions/").content.decode()
    assert short_sofa.number in page and "Corner module" in page and "1 missing" in page

    exception = short_sofa.delivery_exceptions.get()
    estimate = (timezone.now() + timedelta(days=4)).date().isoformat()
    response = signed_in.post(
        f"/exceptions/{exception.pk}/remedy/", {"remedy": "ship_rest", "new_estimate": estimate}, follow=True
    )
    assert "the customer has been told" in response.content.decode()
    exception = DeliveryException.objects.get(pk=exception.pk)
    assert exception.status == ExceptionStatus.RESOLVED and exception.remedy == "ship_rest"
    assert short_sofa.number not in signed_in.get("/exceptions/").content.decode()


def test_a_remedy_form_without_what_it_needs_changes_nothing(signed_in, short_sofa):
    exception = short_sofa.delivery_exceptions.get()
    response = signed_in.post(f"/exceptions/{exception.pk}/remedy/", {"remedy": "goodwill_credit"}, follow=True)
    assert "Nothing was done" in response.content.decode()
    exception = DeliveryException.objects.get(pk=exception.pk)
    assert exception.status == ExceptionStatus.OPEN


def test_a_goodwill_credit_above_the_associates_limit_is_refused_on_the_page(signed_in, short_sofa):
    exception = short_sofa.delivery_exceptions.get()
    response = signed_in.post(
        f"/exceptions/{exception.pk}/remedy/",
        {"remedy": "goodwill_credit", "amount": "75.00", "note": "sorry"},
        follow=True,
    )
    assert "approval limit" in response.content.decode()
    assert not short_sofa.charges.filter(kind="goodwill_credit").exists()


def test_orders_at_risk_are_listed(signed_in):
    late = make_order()
    Order.objects.filter(pk=late.pk).update(at_risk_since=timezone.now(), at_risk_reason="not_shipped_in_time")
    page = signed_in.get("/at-risk/").content.decode()
    assert late.number in page and "Not shipped in time" in page


def test_pickups_are_handed_over_with_the_code_and_suggestions_are_shown(signed_in, store):
    lamp, bulb = ProductFactory(name="Desk lamp"), ProductFactory(name="LED bulb", price=Decimal("4.95"))
    bulb.category = lamp.category
    bulb.save()
    InventoryFactory(product=lamp, location=store, on_hand=3)
    InventoryFactory(product=bulb, location=store, on_hand=30)
    order = make_order(lines=[(lamp, 1, "39.00")], fulfilment="pickup")
    pickup = pickup_ready(actor=None, order=order, location=store)

    listing = signed_in.get("/pickups/").content.decode()
    assert pickup.number in listing and pickup.code not in listing
    page = signed_in.get(f"/pickups/{pickup.number}/").content.decode()
    assert "LED bulb" in page and pickup.code not in page

    wrong = signed_in.post(f"/pickups/{pickup.number}/", {"code": "WRONG-CODE"}, follow=True).content.decode()
    pickup = Pickup.objects.get(pk=pickup.pk)
    assert pickup.status == PickupStatus.READY and "code" in wrong.lower()

    signed_in.post(f"/pickups/{pickup.number}/", {"code": pickup.code.lower()}, follow=True)
    assert Pickup.objects.get(pk=pickup.pk).status == PickupStatus.COLLECTED


@pytest.mark.parametrize("url", ["/exceptions/", "/at-risk/", "/pickups/", "/orders/R00000000/"])
def test_the_pages_are_for_staff(client, url):
    assert client.get(url).status_code == 302  # to sign-in
    client.force_login(UserFactory())  # signed in, but no role: a customer's app login, say
    assert client.get(url).status_code == 403


def test_handing_a_pickup_over_on_the_page_is_rate_limited_like_the_api(signed_in, store, monkeypatch):
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {**SimpleRateThrottle.THROTTLE_RATES, "secret_lookup": "2/min"}
    )
    lamp = ProductFactory(name="Desk lamp")
    InventoryFactory(product=lamp, location=store, on_hand=3)
    pickup = pickup_ready(actor=None, order=make_order(lines=[(lamp, 1, "39.00")], fulfilment="pickup"), location=store)
    url = f"/pickups/{pickup.number}/"

    statuses = [signed_in.post(url, {"code": code}).status_code for code in ("A", "B", pickup.code)]

    assert statuses == [200, 200, 429]
    assert Pickup.objects.get(pk=pickup.pk).status == PickupStatus.READY  # the right code, too late, did nothing
    assert "Too many codes" in signed_in.post(url, {"code": pickup.code}).content.decode()
