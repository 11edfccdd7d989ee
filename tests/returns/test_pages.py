"""The associate pages for returns: the store's queues, the look-up, and each step of a return
done from its page through the services."""

from decimal import Decimal

import pytest

from core.models import Inventory
from orders.choices import ChargeKind
from orders.models import Charge
from returns.choices import ReturnStatus
from returns.models import ReturnPolicy, ReturnRequest
from tests.factories import AssociateProfileFactory, LocationFactory, ProductFactory, make_paid_order, make_return

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return LocationFactory(kind="store", name="Ravelijn Utrecht")


@pytest.fixture
def clerk(store):
    return AssociateProfileFactory(home_location=store, user__roles=["associate"], approval_limit=Decimal("50")).user


@pytest.fixture
def signed_in(client, clerk):
    client.force_login(clerk)
    return client


def _status(request):
    return ReturnRequest.objects.get(pk=request.pk).status


def test_the_store_sees_the_returns_expected_there_and_finds_one_by_number(signed_in, store):
    expected = make_return(order=make_paid_order(lines=[(ProductFactory(), 1, "20.00")]), drop_off_location=store)
    elsewhere = make_return(order=make_paid_order(lines=[(ProductFactory(), 1, "20.00")]))

    page = signed_in.get("/returns/").content.decode()
    found = signed_in.get("/returns/", {"q": expected.order.number.lower()})

    assert "Expected here" in page and expected.number in page and elsewhere.number not in page
    assert found.status_code == 302 and found["Location"] == f"/returns/{expected.number}/"
    assert "No return or order" in signed_in.get("/returns/", {"q": "RMANOPE"}, follow=True).content.decode()


def test_receive_inspect_and_refund_from_the_page(signed_in, store):
    product = ProductFactory(name="Floor lamp")
    order = make_paid_order(lines=[(product, 2, "20.00")])
    request = make_return(order=order, drop_off_location=store)
    line = request.lines.get()
    url = f"/returns/{request.number}/"

    assert "Receive at Ravelijn Utrecht" in signed_in.get(url).content.decode()
    signed_in.post(f"{url}receive/", {f"line-{line.pk}": 1})
    assert _status(request) == ReturnStatus.RECEIVED
    assert "Floor lamp (1): grade" in signed_in.get(url).content.decode()
    signed_in.post(
        f"{url}inspect/", {f"grade-{line.pk}": "new", f"disposition-{line.pk}": "restock", f"value-{line.pk}": "19"}
    )
    assert _status(request) == ReturnStatus.INSPECTED
    assert Inventory.objects.get(product=product, location=store).on_hand == 1
    page = signed_in.post(f"{url}refund/", follow=True).content.decode()

    assert _status(request) == ReturnStatus.RESOLVED
    assert "resolved: refund to the original payment" in page
    assert Charge.objects.get(order=order, kind=ChargeKind.REFUND).amount == Decimal("-20.00")


def test_a_refusal_is_shown_and_nothing_changes(signed_in, store):
    request = make_return(order=make_paid_order(lines=[(ProductFactory(), 1, "20.00")]), drop_off_location=store)
    line = request.lines.get()

    page = signed_in.post(f"/returns/{request.number}/receive/", {f"line-{line.pk}": 5}, follow=True)

    assert "1 unit(s) were announced and approved, not 5" in page.content.decode()
    assert _status(request) == ReturnStatus.APPROVED


def test_decisions_within_the_associates_limit(signed_in):
    ReturnPolicy.objects.update(auto_approve_limit=Decimal("0"))
    small = make_return(order=make_paid_order(lines=[(ProductFactory(), 1, "30.00")]))
    large = make_return(order=make_paid_order(lines=[(ProductFactory(), 1, "300.00")]))

    assert "Waiting for a decision" in signed_in.get("/returns/").content.decode()
    signed_in.post(f"/returns/{small.number}/decide/", {"decision": "approve"})
    page = signed_in.post(f"/returns/{large.number}/decide/", {"decision": "approve"}, follow=True).content.decode()
    signed_in.post(f"/returns/{large.number}/decide/", {"decision": "reject"})

    assert _status(small) == ReturnStatus.APPROVED
    assert "above your approval limit" in page
    assert _status(large) == ReturnStatus.REQUESTED  # a rejection without a reason changes nothing
    signed_in.post(f"/returns/{large.number}/decide/", {"decision": "reject", "reason": "Worn"})
    assert _status(large) == ReturnStatus.REQUESTED  # above the limit either way: a manager's decision
    signed_in.post(f"/returns/{small.number}/decide/", {"decision": "reject", "reason": "Worn"})
    assert _status(small) == ReturnStatus.APPROVED  # decided already


def test_customers_and_signed_out_visitors_are_kept_out(client, customer):
    request = make_return(order=make_paid_order(lines=[(ProductFactory(), 1, "20.00")]))

    assert client.get("/returns/").status_code == 302
    client.force_login(customer.user)
    assert client.get("/returns/").status_code == 403
    assert client.post(f"/returns/{request.number}/refund/").status_code == 403


def test_managers_see_the_analytics_page_for_a_period_and_associates_do_not(client, manager, clerk):
    order = make_paid_order(lines=[(ProductFactory(sku="LAMP-1"), 4, "10.00")])
    make_return(order=order, lines=[{"order_line": order.lines.get(), "quantity": 1, "reason": "doesnt_fit"}])
    client.force_login(manager)

    page = client.get("/returns/analytics/").content.decode()
    refused = client.get("/returns/analytics/", {"since": "2026-05-01", "until": "2026-04-01"}).content.decode()

    assert "LAMP-1" in page and "25.00%" in page and "Doesn&#x27;t fit" in page
    assert "ends after it starts" in refused
    assert "Analytics" in client.get("/returns/").content.decode()
    client.force_login(clerk)
    assert client.get("/returns/analytics/").status_code == 403
