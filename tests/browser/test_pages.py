"""The associate pages as an associate uses them, in Chromium: sign in, find a customer, read and
filter their timeline, sign out; and a customer of the app who tries the pages is turned away."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from core.choices import Channel, TouchpointKind
from tests.factories import CustomerAddressFactory, CustomerFactory, ProductFactory, TouchpointFactory

try:
    from playwright.sync_api import expect
except ImportError:  # then the `browser` fixture skips the tests (fails them with REQUIRE_BROWSER=1), saying why
    expect = None

PASSWORD = "pass-word-123"  # what UserFactory sets

pytestmark = [
    pytest.mark.browser,
    # The live server reads what the test writes, so the data must be committed; serialized_rollback
    # restores what the migrations wrote (the role groups) after each test's flush.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def sign_in(page, email: str, password: str = PASSWORD):
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def timeline_rows(page):
    return page.locator("ol.timeline > li.touchpoint")


def test_anonymous_visitor_is_sent_to_the_sign_in_page(page, page_errors):
    page.goto("/customers/")

    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/customers/$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert page_errors == []


def test_associate_signs_in_and_lands_on_their_desk(page, page_errors, associate_user, screenshot):
    sign_in(page, associate_user.email, "not-the-password")
    expect(page.get_by_text("The email address and/or password you specified are not correct.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    screenshot(page, "login-error")

    sign_in(page, associate_user.email)

    expect(page).to_have_url(re.compile(r"/$"))
    expect(page).to_have_title(re.compile(r"^Today"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Good day, Noor")
    expect(page.locator(".messages")).to_have_text("Signed in as Noor Visser.")
    expect(page.locator("header")).to_contain_text("Noor Visser")
    expect(page.locator("main")).to_contain_text("Amsterdam Centraal store")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    screenshot(page, "today")
    assert page_errors == []


def test_associate_finds_a_customer_and_filters_their_timeline(page, page_errors, associate_user, screenshot):
    location = associate_user.associate.home_location
    customer = CustomerFactory(
        given_name="Eva",
        family_name="de Wit",
        email="eva.dewit@example.com",
        phone="+31612345678",
        consent_email=True,
        consent_sms=True,
        consent_push=False,
    )
    CustomerAddressFactory(customer=customer, line1="Prinsengracht 263", postcode="1016 GV", city="Amsterdam")
    CustomerFactory(given_name="Bram", family_name="Bakker")  # must not match the search
    sofa = ProductFactory(name="Oslo three-seat sofa")
    now = timezone.now()
    events = [
        # (kind, channel, days ago, summary), oldest first
        (TouchpointKind.PURCHASE, Channel.STORE, 9, "Bought the Oslo sofa"),
        (TouchpointKind.DELIVERY, Channel.WEB, 6, "Delivery booked for Friday morning"),
        (TouchpointKind.COMPLAINT, Channel.PHONE, 3, "Sofa arrived with a torn cushion"),
        (TouchpointKind.DELIVERY, Channel.STORE, 1, "Replacement cushion delivered"),
    ]
    for kind, channel, days_ago, summary in events:
        TouchpointFactory(
            customer=customer,
            kind=kind,
            channel=channel,
            occurred_at=now - timedelta(days=days_ago),
            summary=summary,
            associate=associate_user,
            location=location,
            product=sofa,
            order_number="ORD-7KQ2M",
        )
    TouchpointFactory(kind=TouchpointKind.DELIVERY, summary="Someone else's delivery")

    sign_in(page, associate_user.email)
    expect(page).to_have_url(re.compile(r"/$"))

    # Search from the desk.
    page.get_by_label("Find a customer").fill("de wit")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/customers/\?q=de\+wit$"))
    results = page.locator("table.list tbody tr")
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text(customer.number)
    expect(results.first).to_contain_text("eva.dewit@example.com")
    screenshot(page, "search")

    # Open the record.
    results.first.get_by_role("link", name=customer.number).click()
    expect(page).to_have_url(re.compile(rf"/customers/{customer.number}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Eva de Wit")
    expect(page.get_by_role("heading", level=1)).to_contain_text(customer.number)
    record = page.locator("section.record")
    expect(record).to_contain_text("eva.dewit@example.com")
    expect(record).to_contain_text("+31612345678")
    expect(record.locator(".consents .chip")).to_have_text(["E-mail", "SMS"])
    expect(record).to_contain_text("Prinsengracht 263, 1016 GV Amsterdam, NL")

    # The whole timeline, newest first, and nobody else's events.
    rows = timeline_rows(page)
    expect(rows.locator(".summary")).to_have_text([summary for *_, summary in reversed(events)])
    expect(rows.first).to_contain_text("Order ORD-7KQ2M")
    expect(rows.first).to_contain_text("Oslo three-seat sofa")
    expect(rows.first).to_contain_text("Noor Visser")
    expect(page.locator("main")).not_to_contain_text("Someone else's delivery")
    screenshot(page, "customer")

    # Only deliveries.
    page.get_by_label("Kind").select_option(label="Delivery")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"[?&]kind=delivery(&|$)"))
    expect(rows.locator(".summary")).to_have_text(
        ["Replacement cushion delivered", "Delivery booked for Friday morning"]
    )
    expect(rows.locator(".tag")).to_have_text(["Delivery", "Delivery"])
    expect(page.get_by_label("Kind")).to_have_value("delivery")

    # Deliveries through the web only.
    page.get_by_label("Channel").select_option(label="Web")
    page.get_by_role("button", name="Filter").click()
    expect(rows.locator(".summary")).to_have_text(["Delivery booked for Friday morning"])

    # A filter nothing matches says so.
    page.get_by_label("Kind").select_option(label="Return")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(0)
    expect(page.locator("main")).to_contain_text("No events match these filters.")
    screenshot(page, "customer-filtered")
    assert page_errors == []


def test_timeline_pages_keep_the_filter(page, page_errors, associate_user):
    customer = CustomerFactory(given_name="Lotte", family_name="Smit")
    now = timezone.now()
    for n in range(30):  # newest is "Delivery update 0"
        TouchpointFactory(
            customer=customer,
            kind=TouchpointKind.DELIVERY,
            occurred_at=now - timedelta(hours=2 * n + 1),
            summary=f"Delivery update {n}",
        )
        TouchpointFactory(customer=customer, kind=TouchpointKind.SURVEY, occurred_at=now - timedelta(hours=2 * n))

    sign_in(page, associate_user.email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Good day, Noor")
    page.goto(f"/customers/{customer.number}/?kind=delivery")
    rows = timeline_rows(page)
    expect(rows).to_have_count(25)
    expect(page.locator(".pager")).to_contain_text("Page 1 of 2")

    page.get_by_role("link", name="Older").click()

    expect(page.locator(".pager")).to_contain_text("Page 2 of 2")
    expect(rows.locator(".summary")).to_have_text([f"Delivery update {n}" for n in range(25, 30)])
    expect(page.get_by_label("Kind")).to_have_value("delivery")
    page.get_by_role("link", name="Newer").click()
    expect(rows.first.locator(".summary")).to_have_text("Delivery update 0")
    assert page_errors == []


def test_customer_of_the_app_is_refused_the_associate_pages(page, page_errors, app_customer, screenshot):
    sign_in(page, app_customer.user.email)

    # Signing in succeeds, but the pages behind it are for staff only.
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("You can’t open this page")
    expect(page.locator("main")).not_to_contain_text("Good day")
    screenshot(page, "forbidden")
    for path in ("/", "/customers/?q=jansen", f"/customers/{app_customer.number}/"):
        response = page.goto(path)
        assert response.status == 403, path
        expect(page.locator("main")).not_to_contain_text("Jansen")
    # Nothing on the page leads to the associate pages; signing out still works.
    expect(page.locator("header nav")).to_have_count(0)
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    assert page_errors == []


def test_sign_out_ends_the_session(page, page_errors, associate_user, screenshot):
    sign_in(page, associate_user.email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Good day, Noor")

    page.get_by_role("button", name="Sign out").click()

    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.locator(".messages")).to_have_text("You have signed out.")
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    screenshot(page, "signed-out")
    page.goto("/customers/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/customers/$"))
    assert page_errors == []
