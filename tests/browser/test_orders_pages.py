"""The orders pages in Chromium, as an associate works them: the sofa set that came one piece short
waits in the delivery-problem queue, the associate ships the rest with a new estimate and opens the
order; at the counter, a customer collects a pickup with the code from the app."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from orders.choices import ExceptionStatus, PickupStatus
from orders.models import DeliveryException, Pickup
from orders.services.deliveries import delivery_record
from tests.browser.test_pages import sign_in
from tests.factories import (
    CustomerAddressFactory,
    CustomerFactory,
    ProductFactory,
    make_delivery,
    make_order,
    make_pickup,
)

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips (or, with REQUIRE_BROWSER=1, fails) and says why
    expect = None

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def short_sofa(transactional_db):
    customer = CustomerFactory(given_name="Emma", family_name="de Vries")
    CustomerAddressFactory(customer=customer)
    pieces = [ProductFactory(name=name) for name in ("Corner module", "Armless module", "Chaise module")]
    order = make_order(customer=customer, lines=[(piece, 1, "400.00") for piece in pieces], fulfilment="delivery")
    delivery = make_delivery(order=order, window_start=timezone.now() + timedelta(days=2))
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


def test_associate_ships_the_missing_piece_from_the_queue(page, page_errors, associate_user, short_sofa, screenshot):
    sign_in(page, associate_user.email)
    page.get_by_role("link", name="Delivery problems").click()

    case = page.locator("article.case").filter(has_text=short_sofa.number)
    expect(case).to_contain_text("Items missing")
    expect(case).to_contain_text("Corner module: expected 1, received 0, 1 missing")
    screenshot(page, "queue")

    case.get_by_label("Remedy").select_option("ship_rest")
    case.get_by_label("New estimate").fill((timezone.localdate() + timedelta(days=3)).isoformat())
    case.get_by_role("button", name="Apply").click()

    expect(page.locator(".messages")).to_contain_text(
        f"Order {short_sofa.number}: done, and the customer has been told."
    )
    expect(page.locator("article.case")).to_have_count(0)
    exception = DeliveryException.objects.get(order=short_sofa)
    assert exception.status == ExceptionStatus.RESOLVED

    page.goto(f"/orders/{short_sofa.number}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(short_sofa.number)
    expect(page.locator("main")).to_contain_text("Ship the rest with a new estimate")
    expect(page.locator("main")).to_contain_text("Delivery problem")
    screenshot(page, "order")
    assert page_errors == []


def test_associate_hands_a_pickup_over_with_the_customers_code(page, page_errors, associate_user, screenshot):
    store = associate_user.associate.home_location
    lamp = ProductFactory(name="Desk lamp", price=Decimal("39.00"))
    pickup = make_pickup(location=store, customer=CustomerFactory(given_name="Sam"), lines=[(lamp, 1, "39.00")])
    sign_in(page, associate_user.email)

    page.get_by_role("link", name="Pickups").click()
    row = page.locator("tr").filter(has_text=pickup.number)
    expect(row).to_contain_text("Sam")
    row.get_by_role("link", name="Hand over").click()
    expect(page).to_have_url(re.compile(rf"/pickups/{pickup.number}/$"))
    expect(page.locator("main")).not_to_contain_text(pickup.code)

    page.get_by_label("Code the customer shows").fill("WRONG-CODE-0000")
    page.get_by_role("button", name="Hand over").click()
    expect(page.locator(".messages")).to_contain_text("code")
    assert Pickup.objects.get(pk=pickup.pk).status == PickupStatus.READY

    page.get_by_label("Code the customer shows").fill(pickup.code.lower().replace("-", " "))
    page.get_by_role("button", name="Hand over").click()
    expect(page.locator(".messages")).to_contain_text(f"{pickup.number} handed over to Sam")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Collected")
    screenshot(page, "collected")
    assert page_errors == []
