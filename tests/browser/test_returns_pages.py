"""The returns pages in Chromium, as an associate works them: a customer brings back one of two
lamps she announced; the associate finds the return by its number, records what arrived, inspects
it back onto the shelf and refunds it."""

import re
from decimal import Decimal

import pytest

from core.models import Inventory
from orders.models import Charge
from returns.choices import ReturnStatus
from returns.models import ReturnRequest
from tests.browser.test_pages import sign_in
from tests.factories import CustomerFactory, ProductFactory, make_paid_order, make_return

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips (or, with REQUIRE_BROWSER=1, fails) and says why
    expect = None

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_associate_receives_inspects_and_refunds_a_return(page, page_errors, associate_user, screenshot):
    store = associate_user.associate.home_location
    lamp = ProductFactory(name="Arc floor lamp")
    customer = CustomerFactory(given_name="Emma", family_name="de Vries")
    order = make_paid_order(customer=customer, lines=[(lamp, 2, "45.00")])
    request = make_return(order=order, drop_off_location=store)

    sign_in(page, associate_user.email)
    page.get_by_role("link", name="Returns").click()
    expect(page.get_by_role("table", name="Expected here")).to_contain_text(request.number)
    screenshot(page, "queues")

    page.get_by_label("Return or order number").fill(request.number.lower())
    page.get_by_role("button", name="Find").click()
    expect(page).to_have_url(re.compile(rf"/returns/{request.number}/$"))
    page.get_by_label("Arc floor lamp arrived").fill("1")
    page.get_by_role("button", name="Record what arrived").click()
    expect(page.locator(".messages")).to_contain_text(f"Return {request.number} received at {store.name}")

    page.get_by_label("Arc floor lamp (1): grade").select_option("like_new")
    page.get_by_label("goes to").select_option("open_box")
    page.get_by_label("recovers").fill("30.00")
    page.get_by_role("button", name="Record the inspection").click()
    expect(page.get_by_role("table", name="Lines")).to_contain_text("1 × Opened, like new, resell as open box (30.00)")
    screenshot(page, "inspected")

    page.get_by_role("button", name=re.compile("Give the customer")).click()
    expect(page.locator(".messages")).to_contain_text("resolved: refund to the original payment")
    expect(page.locator("main")).to_contain_text("Given back")
    expect(page.locator("main")).to_contain_text("45.00 EUR")

    assert ReturnRequest.objects.get(pk=request.pk).status == ReturnStatus.RESOLVED
    assert Inventory.objects.get(product=lamp, location=store).on_hand == 1
    assert Charge.objects.get(order=order, kind="refund").amount == Decimal("-45.00")
    assert page_errors == []
