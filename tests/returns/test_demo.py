"""The demo's returns and credit vouchers (returns/demo.py): real rows behind the timeline, in every
state, with ledgers that agree with it, and safe to load again."""

import re
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Sum

from core.choices import Role, TouchpointKind
from core.demo.places import RETURNS_CENTRE
from core.demo.staff import DEMO_MANAGER
from core.models import AssociateProfile, Customer, Location, Touchpoint, User
from orders.choices import ChargeKind, ChargeStatus
from orders.models import Charge, Order
from orders.services.charges import check_approval_limit, ledger_from_rows, units_value
from returns.choices import Disposition, ItemGrade, ReturnFlag, ReturnStatus, VoucherSource, VoucherStatus
from returns.models import (
    InspectedItem,
    ReturnLine,
    ReturnPolicy,
    ReturnRequest,
    Voucher,
    VoucherTransaction,
)
from returns.services.returns import return_approve, return_inspect, return_receive, return_refund

pytestmark = pytest.mark.django_db

CUSTOMERS = 1000  # enough for every common state on any day the suite runs
RETURN_NUMBER = re.compile(r"^Return (RMA\w+) ")
GOODWILL = re.compile(r"^Goodwill voucher of €([\d,]+\.\d{2}) issued")


def seed(customers: int = CUSTOMERS) -> str:
    out = StringIO()
    call_command("seed_demo", customers=customers, stdout=out)
    return out.getvalue()


def returned_value(order: Order) -> Decimal:
    resolved = ReturnRequest.objects.filter(order=order, status=ReturnStatus.RESOLVED)
    return resolved.aggregate(total=Sum("refunded_amount", default=Decimal("0")))["total"]


def assert_ledger_reconciles(order: Order) -> None:
    ledger = ledger_from_rows(list(order.charges.all()))
    assert ledger.past + ledger.pending == order.total - returned_value(order), order.number
    assert ledger.hold >= 0, order.number
    assert ledger.paid >= 0, order.number


def test_returns_exist_in_several_states_and_the_approval_queue_has_work():
    seed()

    states = set(ReturnRequest.objects.values_list("status", flat=True))
    assert {ReturnStatus.RESOLVED, ReturnStatus.REQUESTED, ReturnStatus.APPROVED} <= states
    assert len(states) >= 4, states
    queue = ReturnRequest.objects.filter(status=ReturnStatus.REQUESTED)
    assert queue.exists()
    for request in queue:
        assert request.flags, request.number  # the rules approve what nothing flags
        if ReturnFlag.ABOVE_AUTO_APPROVAL_LIMIT in request.flags:
            assert request.value > ReturnPolicy.objects.get(currency="EUR").auto_approve_limit
        assert request.decided_at is None and request.received_at is None
    assert ReturnRequest.objects.filter(resolution="store_credit", status=ReturnStatus.RESOLVED).exists()
    assert ReturnRequest.objects.filter(status=ReturnStatus.APPROVED, method="store_drop_off").exists()


def test_each_returns_lines_belong_to_its_order_and_its_value_is_the_value_of_their_units():
    seed()

    requests = ReturnRequest.objects.prefetch_related("lines__order_line__product", "lines__inspections")
    assert requests.exists()
    for request in requests:
        lines = list(request.lines.all())
        assert lines, request.number
        assert request.customer_id == Order.objects.get(pk=request.order_id).customer_id
        for line in lines:
            assert line.order_line.order_id == request.order_id, request.number
            assert line.order_line.product.returnable
            assert 1 <= line.quantity <= line.order_line.quantity
            assert line.value == units_value(line.order_line, line.quantity, request.currency)
        assert request.value == sum(line.value for line in lines), request.number
        counted = request.status in (ReturnStatus.RECEIVED, ReturnStatus.INSPECTED, ReturnStatus.RESOLVED)
        assert all((line.quantity_received is not None) == counted for line in lines), request.number
        inspected = request.status in (ReturnStatus.INSPECTED, ReturnStatus.RESOLVED)
        for line in lines:
            graded = sum(item.quantity for item in line.inspections.all())
            assert graded == (line.quantity_received if inspected else 0), request.number
        if request.status == ReturnStatus.RESOLVED:
            assert request.refunded_amount == request.value
            assert request.created_at <= request.decided_at <= request.received_at <= request.resolved_at
            assert request.received_location_id is not None and request.resolved_by_id is not None
    assert InspectedItem.objects.filter(grade=ItemGrade.NEW, disposition=Disposition.RESTOCK).exists()


def test_every_return_touchpoint_links_to_its_return_and_every_refund_told_to_a_resolved_one():
    seed()

    requests = {r.number: r for r in ReturnRequest.objects.all()}
    touchpoints = Touchpoint.objects.filter(kind=TouchpointKind.RETURN)
    assert touchpoints.exists()
    refunds = 0
    for touchpoint in touchpoints:
        found = RETURN_NUMBER.match(touchpoint.summary)
        assert found, touchpoint.summary
        request = requests[found.group(1)]
        assert touchpoint.subject_id == request.pk and touchpoint.subject_type.model == "returnrequest"
        assert touchpoint.customer_id == request.customer_id
        if "refunded" in touchpoint.summary or "credited" in touchpoint.summary:
            refunds += 1
            assert request.status == ReturnStatus.RESOLVED, touchpoint.summary
            assert f"€{request.refunded_amount:,.2f}" in touchpoint.summary or request.resolution != "refund"
    assert refunds == ReturnRequest.objects.filter(status=ReturnStatus.RESOLVED).count()
    for request in ReturnRequest.objects.filter(status=ReturnStatus.REQUESTED):
        assert touchpoints.filter(subject_id=request.pk, summary__startswith=f"Return {request.number} requested")


def test_every_order_with_a_return_still_reconciles_its_ledger():
    seed()

    orders = Order.objects.filter(pk__in=ReturnRequest.objects.values("order")).prefetch_related("charges")
    assert orders.exists()
    for order in orders:
        assert_ledger_reconciles(order)
    refunds = Charge.objects.filter(kind=ChargeKind.REFUND)
    assert refunds.filter(status=ChargeStatus.SETTLED).exists()
    assert refunds.filter(status=ChargeStatus.PENDING).exists()  # for the manager to settle
    assert not refunds.filter(amount__gte=0).exists()
    assert refunds.count() == ReturnRequest.objects.filter(status=ReturnStatus.RESOLVED, resolution="refund").count()


def test_voucher_balances_are_the_sum_of_their_ledger_and_never_negative():
    seed()

    vouchers = Voucher.objects.prefetch_related("transactions")
    assert vouchers.filter(source=VoucherSource.GOODWILL).exists()
    assert vouchers.filter(source=VoucherSource.RETURN).exists()
    valid_days = ReturnPolicy.objects.get(currency="EUR").voucher_valid_days
    for voucher in vouchers:
        rows = list(voucher.transactions.order_by("id"))
        assert rows[0].kind == "issue" and rows[0].amount == voucher.initial_amount
        assert voucher.balance == sum(row.amount for row in rows) >= 0, voucher.pk
        assert rows[-1].balance_after == voucher.balance
        assert all(row.balance_after >= 0 for row in rows)
        assert (voucher.status == VoucherStatus.EXHAUSTED) == (voucher.balance == 0)
        assert (voucher.expires_at - voucher.created_at).days == valid_days
    goodwill = Touchpoint.objects.filter(kind=TouchpointKind.CREDIT_VOUCHER, summary__startswith="Goodwill voucher of")
    issued = [t for t in goodwill if GOODWILL.match(t.summary)]
    assert issued
    by_pk = {v.pk: v for v in vouchers}
    for touchpoint in issued:
        voucher = by_pk[touchpoint.subject_id]
        assert voucher.source == VoucherSource.GOODWILL and voucher.customer_id == touchpoint.customer_id
        assert voucher.initial_amount == Decimal(GOODWILL.match(touchpoint.summary).group(1))
    assert len(issued) == vouchers.filter(source=VoucherSource.GOODWILL).count()
    for voucher in vouchers.filter(source=VoucherSource.RETURN).select_related("return_request"):
        assert voucher.return_request.status == ReturnStatus.RESOLVED
        assert voucher.return_request.resolution == "store_credit"


def test_the_app_customer_spent_the_goodwill_voucher_on_the_oven_and_had_the_coat_refunded():
    seed(0)

    customer = Customer.objects.get(user__email="customer@demo.aftercare.test")
    (voucher,) = Voucher.objects.filter(customer=customer)
    assert (voucher.source, voucher.status, voucher.initial_amount, voucher.balance) == (
        VoucherSource.GOODWILL,
        VoucherStatus.EXHAUSTED,
        Decimal("50.00"),
        Decimal("0.00"),
    )
    issue, redeem = voucher.transactions.order_by("id")
    assert (issue.kind, issue.amount, issue.actor.email) == ("issue", Decimal("50.00"), DEMO_MANAGER)
    oven = Order.objects.get(customer=customer, lines__product__sku="RV-APP-5002")
    assert (redeem.kind, redeem.amount, redeem.order_id) == ("redeem", Decimal("-50.00"), oven.pk)
    paid = oven.charges.get(kind=ChargeKind.VOUCHER_REDEMPTION)
    assert paid.amount == Decimal("50.00") and paid.reference == f"voucher-transaction:{redeem.pk}"
    assert_ledger_reconciles(oven)
    (coat_return,) = ReturnRequest.objects.filter(customer=customer)
    assert coat_return.status == ReturnStatus.RESOLVED and coat_return.refunded_amount == Decimal("229.00")
    assert coat_return.order.charges.get(kind=ChargeKind.REFUND).status == ChargeStatus.PENDING
    assert_ledger_reconciles(coat_return.order)
    timeline = customer.touchpoints.filter(subject_id__isnull=False)
    assert timeline.filter(kind=TouchpointKind.CREDIT_VOUCHER, subject_id=voucher.pk).count() == 2
    assert timeline.filter(kind=TouchpointKind.RETURN, subject_id=coat_return.pk).count() == 5


def test_the_demo_manager_works_the_queue_and_the_return_goes_on_through_the_services():
    seed()
    manager = User.objects.get(email=DEMO_MANAGER)
    queue = ReturnRequest.objects.filter(status=ReturnStatus.REQUESTED).order_by("created_at", "id")
    for request in queue:
        check_approval_limit(manager, request.value, request.currency)  # typical requests are theirs to approve
    request = queue.first()

    approved = return_approve(actor=manager, return_request=request, reason="Checked the photos")
    # over the counter where it is dropped off at a store; parcels and pickup points go to the centre
    if approved.method == "store_drop_off":
        location = approved.drop_off_location
    else:
        location = Location.objects.get(code=RETURNS_CENTRE)
    associate = AssociateProfile.objects.filter(home_location=location, user__groups__name=Role.ASSOCIATE).first().user
    received = return_receive(actor=associate, return_request=approved, location=location)
    (line,) = ReturnLine.objects.filter(return_request=received)
    items = [
        {
            "return_line": line,
            "quantity": line.quantity_received,
            "grade": "new",
            "disposition": "restock",
            "recovered_value": line.value,
        }
    ]
    inspected = return_inspect(actor=associate, return_request=received, items=items)
    resolved = return_refund(actor=associate, return_request=inspected)

    assert resolved.status == ReturnStatus.RESOLVED and resolved.refunded_amount == request.value
    assert_ledger_reconciles(Order.objects.get(pk=request.order_id))


def test_the_approval_queue_in_the_admin_shows_the_demo_requests(client):
    seed(300)
    client.force_login(User.objects.get(email=DEMO_MANAGER))

    response = client.get("/admin/returns/returnrequest/?queue=awaiting")

    assert response.status_code == 200
    for number in ReturnRequest.objects.filter(status=ReturnStatus.REQUESTED).values_list("number", flat=True):
        assert number in response.content.decode()


def test_a_second_seed_creates_no_returns_vouchers_or_charges():
    seed(200)
    models = (ReturnRequest, ReturnLine, InspectedItem, Voucher, VoucherTransaction, Charge, Touchpoint)
    before = {model: model.objects.count() for model in models}
    assert before[ReturnRequest] and before[Voucher]

    output = seed(200)

    assert {model: model.objects.count() for model in models} == before
    assert "nothing (already seeded)" in output
