"""The alteration pages in Chromium, as a store's workroom works them: an associate takes a work
order from the customer's order number, records the measurements and gives it to the tailor; the
tailor starts the work and submits it; a colleague checks it and passes it, so it is ready with a
pickup; the colleague hands it over against the customer's code (read from the database here: the
customer would show it). After each step: what the page shows and what the database holds."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone

from core.choices import Role
from core.models import Skill
from core.timezones import zone_or_utc
from installations.choices import AlterationStatus
from installations.models import Alteration, AlterationKind
from orders.choices import PickupStatus
from orders.models import Pickup
from orders.services.charges import ledger_of
from tests.browser.test_pages import sign_in
from tests.factories import AssociateProfileFactory, CategoryFactory, CustomerFactory, ProductFactory, make_paid_order

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips (or, with REQUIRE_BROWSER=1, fails) and says why
    expect = None

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

FEE = Decimal("15.00")


def _colleague(store, first: str, last: str):
    profile = AssociateProfileFactory(
        home_location=store, user__roles=[Role.ASSOCIATE], user__first_name=first, user__last_name=last
    )
    EmailAddress.objects.create(user=profile.user, email=profile.user.email, verified=True, primary=True)
    return profile


def _reload(alteration):
    return Alteration.objects.select_related("pickup", "service_order").get(pk=alteration.pk)


def _sign_in_as(page, user):
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    sign_in(page, user.email)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_a_work_order_from_the_order_number_to_the_customer_collecting_it(
    page, page_errors, associate_user, screenshot
):
    store = associate_user.associate.home_location
    zone = zone_or_utc(store.time_zone)
    sewing = Skill.objects.create(code="sewing", name="Sewing")
    clothes = CategoryFactory(slug="womenswear", name="Womenswear")
    fee_product = ProductFactory(
        sku="SVC-HEM", name="Hemming service", price=FEE, stocked=False, returnable=False, category=clothes
    )
    hemming = AlterationKind.objects.create(
        code="hem", name="Hemming", category=clothes, turnaround_days=3, fee=FEE, service_product=fee_product
    )
    hemming.skills.add(sewing)
    AlterationKind.objects.create(
        code="take-in", name="Taking in", category=clothes, turnaround_days=5, fee=FEE, service_product=fee_product
    )
    tailor = _colleague(store, "Ada", "Kaya")
    tailor.skills.add(sewing)
    checker = _colleague(store, "Jo", "de Wit")
    customer = CustomerFactory(given_name="Emma", family_name="de Vries")
    trousers = ProductFactory(category=clothes, name="Wide-leg trousers", alterable=True, price=Decimal("79.95"))
    order = make_paid_order(customer=customer, lines=[(trousers, 1, "79.95")], location=store)

    # The associate: the store's queue, then take a work order for the customer's order.
    sign_in(page, associate_user.email)
    page.get_by_role("link", name="Alterations", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Amsterdam Centraal store")
    expect(page.get_by_role("table", name="Work orders")).to_contain_text("No work orders here.")
    page.get_by_label("Take a work order for order").fill(order.number.lower())
    page.get_by_role("button", name="Find order").click()
    expect(page.get_by_role("heading", name=re.compile(f"Order {order.number}"))).to_contain_text("Emma de Vries")
    page.get_by_label("Wide-leg trousers: Hemming").check()
    page.get_by_role("button", name="Choose").click()
    expect(page.get_by_role("heading", level=2, name="Hemming of Wide-leg trousers")).to_be_visible()
    expect(page.get_by_label("Tailor")).to_contain_text("Ada Kaya")
    expect(page.get_by_label("Tailor")).not_to_contain_text("Jo de Wit")  # not a tailor
    page.get_by_label("What to do").fill("Shorten by 4 cm, blind hem")
    screenshot(page, "take")
    page.get_by_role("button", name="Take the work order").click()

    expect(page).to_have_url(re.compile(r"/installations/alterations/W\w+/$"))
    alteration = Alteration.objects.get()
    expect(page).to_have_url(re.compile(rf"/installations/alterations/{alteration.number}/$"))
    expect(page.locator(".messages")).to_contain_text(f"Hemming of Wide-leg trousers taken: {alteration.number}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Requested")
    record = page.get_by_role("region", name="Work order")
    expect(record).to_contain_text("Shorten by 4 cm, blind hem")
    expect(record).to_contain_text(f"15.00 EUR · order {alteration.service_order.number}")
    assert alteration.status == AlterationStatus.REQUESTED and alteration.kind == hemming
    assert alteration.order_line.order == order and alteration.requested_by == associate_user
    assert alteration.assigned_to is None and alteration.fee == FEE
    due = timezone.localdate(timezone=zone) + timedelta(days=3)
    assert alteration.due_on == due
    expect(record).to_contain_text(f"{due:%A} {due.day} {due:%B %Y}")

    # Measurements (a blank row in between is left out), then the tailor.
    page.get_by_label("Measurement 1", exact=True).fill("Inside leg")
    page.get_by_label("Value 1", exact=True).fill("78 cm")
    page.get_by_label("Measurement 3", exact=True).fill("Hem width")
    page.get_by_label("Value 3", exact=True).fill("24 cm")
    page.get_by_role("button", name="Record measurements").click()
    expect(page.locator(".messages")).to_contain_text(f"{alteration.number}: 2 measurement(s) recorded.")
    expect(record).to_contain_text("Inside leg: 78 cm")
    expect(record).to_contain_text("Hem width: 24 cm")
    alteration = _reload(alteration)
    assert alteration.status == AlterationStatus.MEASURED
    assert alteration.measurements == {"Inside leg": "78 cm", "Hem width": "24 cm"}

    page.get_by_label("Assign to").select_option(label="Ada Kaya")
    page.get_by_role("button", name="Assign").click()
    expect(page.locator(".messages")).to_contain_text(f"{alteration.number} assigned to Ada Kaya.")
    expect(record).to_contain_text("Ada Kaya")
    screenshot(page, "measured")
    alteration = _reload(alteration)
    assert alteration.assigned_to == tailor and alteration.status == AlterationStatus.MEASURED

    # The tailor finds it among their own work, starts it and submits it.
    _sign_in_as(page, tailor.user)
    page.get_by_role("link", name="Alterations", exact=True).click()
    page.get_by_label("Assigned to me").check()
    page.get_by_role("button", name="Show").click()
    page.get_by_role("table", name="Work orders").get_by_role("link", name=alteration.number).click()
    page.get_by_role("button", name="Start the work").click()
    expect(page.locator(".messages")).to_contain_text(f"{alteration.number}: work started.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("In progress")
    alteration = _reload(alteration)
    assert alteration.status == AlterationStatus.IN_PROGRESS

    page.get_by_role("button", name="Submit for the quality check").click()
    expect(page.locator(".messages")).to_contain_text(f"{alteration.number} submitted for the quality check.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Quality check")
    alteration = _reload(alteration)
    assert alteration.status == AlterationStatus.QUALITY_CHECK and alteration.pickup is None

    # The colleague finds it by its number and passes the check: ready, with a pickup.
    _sign_in_as(page, checker.user)
    page.get_by_role("link", name="Alterations", exact=True).click()
    page.get_by_label("Work order or order number").fill(alteration.number)
    page.get_by_role("button", name="Show").click()
    page.get_by_role("table", name="Work orders").get_by_role("link", name=alteration.number).click()
    page.get_by_label("Passed").check()
    page.get_by_label("Note").fill("Even hem")
    page.get_by_role("button", name="Record the check").click()
    expect(page.locator(".messages")).to_contain_text(f"{alteration.number} passed the check and is ready for pickup")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ready for pickup")
    alteration = _reload(alteration)
    pickup = alteration.pickup
    assert alteration.status == AlterationStatus.READY and alteration.quality_note == "Even hem"
    assert pickup.status == PickupStatus.READY and pickup.order == alteration.service_order
    deadline = timezone.localtime(pickup.expires_at, zone)
    expect(record).to_contain_text(
        f"{pickup.number} · Ready for pickup · until {deadline:%a} {deadline.day} {deadline:%b %Y %H:%M} ({zone.key})"
    )
    expect(record).to_contain_text("Even hem")
    expect(page.locator("body")).not_to_contain_text(pickup.code)
    screenshot(page, "ready")

    page.get_by_role("link", name="Alterations", exact=True).click()
    row = page.get_by_role("row", name=alteration.number)
    expect(row).to_contain_text("Ready for pickup")
    expect(row).to_contain_text(f"{pickup.number} · until {deadline:%a} {deadline.day} {deadline:%b %H:%M}")
    expect(page.locator("body")).not_to_contain_text(pickup.code)
    row.get_by_role("link", name=alteration.number).click()

    # The customer shows the code; the colleague hands the trousers over and the fee is taken.
    page.get_by_label("Code the customer shows").fill(Pickup.objects.get(pk=pickup.pk).code)
    page.get_by_role("button", name="Hand over").click()
    expect(page.locator(".messages")).to_contain_text(
        f"{alteration.number} collected by Emma de Vries; the fee of 15.00 EUR is taken."
    )
    expect(page.get_by_role("heading", level=1)).to_contain_text("Collected")
    expect(page.get_by_role("button", name="Hand over")).to_have_count(0)
    history = page.get_by_role("table", name="History")
    for step in (
        "Requested",
        "Measured",
        "Assigned to Ada Kaya",
        "Work started",
        "Submitted for the quality check",
        "Quality check passed: ready for pickup",
        "Collected",
    ):
        expect(history).to_contain_text(step)
    expect(history).to_contain_text("Jo de Wit")
    screenshot(page, "collected")
    alteration = _reload(alteration)
    assert alteration.status == AlterationStatus.COLLECTED and alteration.closed_at is not None
    assert alteration.pickup.status == PickupStatus.COLLECTED and alteration.pickup.collected_by == checker.user
    assert ledger_of(alteration.service_order).past == FEE
    assert page_errors == []
