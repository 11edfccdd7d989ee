"""The returns admin: the approval queue, decisions through the services with a reason, the
customer's history beside each request, the policy as data, and no secret on a page."""

from decimal import Decimal

import pytest

from core.models import Notification, StateTransition
from returns.choices import ReturnStatus
from returns.models import ReturnPolicy, ReturnRequest
from returns.services.returns import return_approve
from tests.factories import AssociateProfileFactory, LocationFactory, ProductFactory, make_paid_order, make_return

pytestmark = pytest.mark.django_db


@pytest.fixture
def big_limit_manager():
    return AssociateProfileFactory(user__roles=["manager"], user__is_staff=True, approval_limit=Decimal("1000.00")).user


@pytest.fixture
def admin_site(client, big_limit_manager):
    client.force_login(big_limit_manager)
    return client


def _waiting(value="300.00", **kwargs):
    return make_return(order=make_paid_order(lines=[(ProductFactory(), 1, value)], **kwargs))


def test_the_queue_lists_the_requests_awaiting_approval_oldest_first(admin_site):
    first, second = _waiting(), _waiting()
    make_return(order=make_paid_order(lines=[(ProductFactory(), 1, "10.00")]))  # approved by the rules

    page = admin_site.get("/admin/returns/returnrequest/", {"queue": "awaiting"}).content.decode()

    assert page.index(first.number) < page.index(second.number)
    assert "Awaiting approval" in page
    assert ReturnRequest.objects.filter(status=ReturnStatus.APPROVED).get().number not in page


def test_a_manager_approves_from_the_admin_and_the_history_names_them(admin_site, big_limit_manager):
    request = _waiting()

    response = admin_site.post(
        "/admin/returns/returnrequest/",
        {"action": "approve", "_selected_action": [request.pk], "reason": "Regular customer"},
        follow=True,
    )

    assert response.status_code == 200
    assert ReturnRequest.objects.get(pk=request.pk).status == ReturnStatus.APPROVED
    step = StateTransition.objects.get(subject_id=request.pk, transition="approve")
    assert (step.actor, step.reason) == (big_limit_manager, "Regular customer")


def test_a_rejection_from_the_admin_needs_the_reason_and_tells_the_customer(admin_site):
    request = _waiting()

    admin_site.post("/admin/returns/returnrequest/", {"action": "reject", "_selected_action": [request.pk]})
    assert ReturnRequest.objects.get(pk=request.pk).status == ReturnStatus.REQUESTED

    admin_site.post(
        "/admin/returns/returnrequest/",
        {"action": "reject", "_selected_action": [request.pk], "reason": "Outside the window"},
    )
    assert ReturnRequest.objects.get(pk=request.pk).status == ReturnStatus.REJECTED
    assert "Outside the window" in Notification.objects.get(event="return_rejected").body


def test_an_approval_above_the_managers_limit_is_refused_with_a_message(client, manager):
    client.force_login(manager)  # limit 100
    request = _waiting()

    response = client.post(
        "/admin/returns/returnrequest/", {"action": "approve", "_selected_action": [request.pk]}, follow=True
    )

    assert "above your approval limit" in response.content.decode()
    assert ReturnRequest.objects.get(pk=request.pk).status == ReturnStatus.REQUESTED


def test_the_request_page_shows_the_customers_return_history_and_never_the_drop_off_code(admin_site, big_limit_manager):
    order = make_paid_order(lines=[(ProductFactory(), 2, "200.00")])
    line = order.lines.get()
    earlier = make_return(order=order, lines=[{"order_line": line, "quantity": 1, "reason": "other"}])
    request = make_return(
        order=order,
        lines=[{"order_line": line, "quantity": 1, "reason": "other"}],
        method="kiosk_drop_off",
        drop_off_location=LocationFactory(kind="kiosk"),
    )
    assert request.drop_off_code is None  # none until approved
    request = return_approve(actor=big_limit_manager, return_request=request)

    page = admin_site.get(f"/admin/returns/returnrequest/{request.pk}/change/").content.decode()

    assert earlier.number in page and "Return rate" in page and "2 requests, 0 rejected" in page
    assert request.drop_off_code not in page


def test_the_policy_is_changed_in_the_admin_and_keeps_its_history(client, admin_user):
    client.force_login(admin_user)
    policy = ReturnPolicy.objects.get(currency="EUR")

    response = client.post(
        f"/admin/returns/returnpolicy/{policy.pk}/change/",
        {
            "currency": "EUR",
            "auto_approve_limit": "250.00",
            "return_rate_threshold": "40.00",
            "return_rate_min_units": 5,
            "return_rate_window_days": 365,
            "store_credit_bonus_percent": "15.00",
            "voucher_valid_days": 180,
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    policy.refresh_from_db()
    assert policy.auto_approve_limit == Decimal("250.00")
    assert policy.history.first().auto_approve_limit == Decimal("250.00")  # the change is in its history
    assert _waiting("200.00").status == ReturnStatus.APPROVED


def test_history_is_read_only_so_a_resolved_return_cannot_be_reverted(admin_site):
    from returns.services.returns import return_inspect, return_receive, return_refund

    store = LocationFactory()
    clerk = AssociateProfileFactory(home_location=store, user__roles=["associate"]).user
    request = make_return(order=make_paid_order(lines=[(ProductFactory(), 1, "40.00")]))
    request = return_receive(actor=clerk, return_request=request, location=store)
    item = {"return_line": request.lines.get(), "quantity": 1, "grade": "new", "disposition": "restock"}
    request = return_refund(
        actor=clerk,
        return_request=return_inspect(actor=clerk, return_request=request, items=[{**item, "recovered_value": 0}]),
    )
    inspected = request.history.filter(status=ReturnStatus.INSPECTED).first()
    url = f"/admin/returns/returnrequest/{request.pk}/history/{inspected.history_id}/"

    assert admin_site.get(url).status_code == 200
    assert admin_site.post(url, {}).status_code == 403
    assert ReturnRequest.objects.get(pk=request.pk).status == ReturnStatus.RESOLVED
