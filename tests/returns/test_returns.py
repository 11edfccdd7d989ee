"""The return workflow: decisions within approval limits, receiving what really arrived,
inspection and disposition into stock, and resolution as refund, store credit or exchange, with
the charges ledger reconciling at every step."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction

from core.choices import TouchpointKind
from core.errors import RuleViolation, TransitionNotAllowed
from core.models import Inventory, Notification, StateTransition, Touchpoint
from orders.choices import ChargeKind, ChargeStatus
from orders.models import Charge
from orders.services.charges import ledger_of, units_value
from returns.choices import ReturnStatus, VoucherSource
from returns.models import InspectedItem, ReturnPolicy, ReturnRequest, Voucher
from returns.services.returns import (
    return_approve,
    return_cancel,
    return_inspect,
    return_receive,
    return_refund,
    return_reject,
)
from tests.factories import (
    AssociateProfileFactory,
    InventoryFactory,
    LocationFactory,
    ProductFactory,
    make_order,
    make_paid_order,
    make_return,
    make_voucher,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    return LocationFactory()


@pytest.fixture
def clerk(store):
    """An associate at the store that receives the returns, with an approval limit of 100."""
    return AssociateProfileFactory(home_location=store, user__roles=["associate"]).user


def _reconciles(order, returned=Decimal("0")) -> None:
    """The ledger of a returned order: past + pending == total - cancelled - credits - what went
    back for returned units; nothing paid below zero."""
    order.refresh_from_db()
    ledger = ledger_of(order)
    cancelled = sum((units_value(line, line.quantity_cancelled, order.currency) for line in order.lines.all()), 0)
    assert ledger.past + ledger.pending == order.total - cancelled - ledger.credits - returned
    assert ledger.paid >= 0


def _received_and_inspected(request, actor, store, *, counts=None, disposition="restock", recovered="0"):
    request = return_receive(actor=actor, return_request=request, location=store, lines=counts)
    items = [
        {
            "return_line": line,
            "quantity": line.quantity_received,
            "grade": "new",
            "disposition": disposition,
            "recovered_value": Decimal(recovered),
        }
        for line in request.lines.all()
        if line.quantity_received
    ]
    return return_inspect(actor=actor, return_request=request, items=items)


# --- decisions --------------------------------------------------------------------------------


def test_an_associate_approves_within_their_approval_limit_and_not_above(clerk):
    small = make_return(order=make_paid_order(lines=[(ProductFactory(), 1, "150.00")]))
    ReturnPolicy.objects.update(auto_approve_limit=Decimal("10.00"))
    cheap = make_return(order=make_paid_order(lines=[(ProductFactory(), 1, "80.00")]))

    with pytest.raises(RuleViolation, match="above your approval limit"):
        return_approve(actor=clerk, return_request=small)
    approved = return_approve(actor=clerk, return_request=cheap, reason="Looks fine")

    assert approved.status == ReturnStatus.APPROVED
    assert approved.decided_by == clerk and approved.decision_reason == "Looks fine"
    assert ReturnRequest.objects.get(pk=small.pk).status == ReturnStatus.REQUESTED


def test_a_manager_approves_above_the_rules_limit_and_the_history_says_who(manager):
    ReturnPolicy.objects.update(auto_approve_limit=Decimal("10.00"))
    request = make_return(order=make_paid_order(lines=[(ProductFactory(), 1, "90.00")]))

    return_approve(actor=manager, return_request=request)

    step = StateTransition.objects.filter(subject_id=request.pk, transition="approve").get()
    assert (step.from_state, step.to_state, step.actor) == ("requested", "approved", manager)


def test_a_rejection_needs_a_reason_and_tells_the_customer_why(manager):
    request = make_return(order=make_paid_order(lines=[(ProductFactory(), 1, "90.00")]))
    ReturnPolicy.objects.update(auto_approve_limit=Decimal("10.00"))
    request = make_return(order=make_paid_order(lines=[(ProductFactory(), 1, "90.00")]))

    with pytest.raises(RuleViolation, match="Say why"):
        return_reject(actor=manager, return_request=request, reason="  ")
    return_reject(actor=manager, return_request=request, reason="Worn and washed")

    message = Notification.objects.get(event="return_rejected")
    assert "Worn and washed" in message.body and request.number in message.subject


def test_a_decision_either_way_above_the_actors_limit_is_a_managers(clerk):
    request = make_return(order=make_paid_order(lines=[(ProductFactory(), 1, "300.00")]))

    with pytest.raises(RuleViolation, match="above your approval limit"):
        return_reject(actor=clerk, return_request=request, reason="Looks worn")
    assert ReturnRequest.objects.get(pk=request.pk).status == ReturnStatus.REQUESTED


def test_a_staff_cancellation_tells_the_customer_theirs_does_not(customer, agent):
    mine = make_return(order=make_paid_order(customer=customer, lines=[(ProductFactory(), 1, "20.00")]))
    theirs = make_return(order=make_paid_order(customer=customer, lines=[(ProductFactory(), 1, "20.00")]))

    return_cancel(actor=customer.user, return_request=mine, reason="Kept it")
    return_cancel(actor=agent, return_request=theirs, reason="Customer asked by phone")

    (message,) = Notification.objects.filter(event="return_cancelled")
    assert theirs.number in message.subject and "Customer asked by phone" in message.body


def test_transitions_out_of_order_are_refused_naming_the_allowed_ones(admin_user, store):
    manager = admin_user  # no approval limit: only the state refuses
    request = make_return(order=make_paid_order(lines=[(ProductFactory(), 1, "300.00")]))

    with pytest.raises(TransitionNotAllowed) as excinfo:
        return_receive(actor=manager, return_request=request, location=store)
    assert sorted(excinfo.value.extra["allowed"]) == ["approve", "cancel", "reject"]

    return_reject(actor=manager, return_request=request, reason="No")
    with pytest.raises(TransitionNotAllowed, match="allowed: none"):
        return_approve(actor=manager, return_request=request)


def test_a_customer_cancels_before_it_arrives_and_not_after(customer, manager, store):
    order = make_paid_order(customer=customer, lines=[(ProductFactory(), 1, "20.00")])
    request = make_return(order=order, actor=customer.user)
    return_cancel(actor=customer.user, return_request=request, reason="Kept it")
    again = make_return(order=order, actor=customer.user)  # the units are returnable again
    return_receive(actor=manager, return_request=again, location=store)

    with pytest.raises(TransitionNotAllowed):
        return_cancel(actor=customer.user, return_request=again)


# --- receiving and inspection -----------------------------------------------------------------


def test_receiving_keeps_the_difference_between_announced_and_arrived(clerk, store):
    product = ProductFactory()
    request = make_return(order=make_paid_order(lines=[(product, 3, "10.00")]))
    line = request.lines.get()

    request = return_receive(
        actor=clerk, return_request=request, location=store, lines=[{"return_line": line, "quantity_received": 2}]
    )

    line.refresh_from_db()
    assert (line.quantity, line.quantity_received, line.discrepancy) == (3, 2, -1)
    assert request.received_by == clerk and request.received_location == store
    assert "2 items (3 announced)" in Touchpoint.objects.filter(kind=TouchpointKind.RETURN).first().summary
    assert "you announced 3" in Notification.objects.get(event="return_received").body


def test_more_than_was_announced_and_approved_cannot_be_received(clerk, store):
    """Ten bought, two approved: the other eight would be refunded past the approval."""
    order = make_paid_order(lines=[(ProductFactory(), 10, "50.00")])
    request = make_return(order=order, lines=[{"order_line": order.lines.get(), "quantity": 2, "reason": "other"}])
    line = request.lines.get()

    with pytest.raises(RuleViolation, match="2 unit\\(s\\) were announced and approved, not 10"):
        return_receive(
            actor=clerk, return_request=request, location=store, lines=[{"return_line": line, "quantity_received": 10}]
        )
    assert ReturnRequest.objects.get(pk=request.pk).status == ReturnStatus.APPROVED  # nothing half-written


def test_associates_receive_at_their_home_store_only(clerk):
    request = make_return(order=make_paid_order(lines=[(ProductFactory(), 1, "10.00")]))

    with pytest.raises(PermissionDenied):
        return_receive(actor=clerk, return_request=request, location=LocationFactory())


def test_inspection_must_account_for_every_unit_that_arrived(clerk, store):
    request = make_return(order=make_paid_order(lines=[(ProductFactory(), 2, "10.00")]))
    request = return_receive(actor=clerk, return_request=request, location=store)
    line = request.lines.get()

    with pytest.raises(RuleViolation, match="2 unit\\(s\\) arrived, 1 graded"):
        return_inspect(
            actor=clerk,
            return_request=request,
            items=[
                {
                    "return_line": line,
                    "quantity": 1,
                    "grade": "new",
                    "disposition": "restock",
                    "recovered_value": Decimal("5"),
                }
            ],
        )
    assert not InspectedItem.objects.exists()


def test_restocked_and_open_box_units_go_back_on_the_receiving_shelf_the_rest_do_not(clerk, store):
    lamp, chair = ProductFactory(), ProductFactory()
    InventoryFactory(product=lamp, location=store, on_hand=4)
    request = make_return(order=make_paid_order(lines=[(lamp, 3, "10.00"), (chair, 1, "20.00")]))
    request = return_receive(actor=clerk, return_request=request, location=store)
    lamp_line, chair_line = request.lines.order_by("id")

    return_inspect(
        actor=clerk,
        return_request=request,
        items=[
            _graded(lamp_line, "new", "restock", 10),
            _graded(lamp_line, "like_new", "open_box", 7),
            _graded(lamp_line, "unusable", "recycle", 0),
            _graded(chair_line, "damaged", "landfill", 0),
        ],
    )

    assert Inventory.objects.get(product=lamp, location=store).on_hand == 6
    assert not Inventory.objects.filter(product=chair, location=store).exists()
    assert sum(item.recovered_value for item in InspectedItem.objects.all()) == Decimal("17.00")


def _graded(line, grade, disposition, value):
    return {"return_line": line, "quantity": 1, "grade": grade, "disposition": disposition, "recovered_value": value}


# --- resolution -------------------------------------------------------------------------------


def test_a_refund_gives_back_the_value_of_what_arrived_and_the_ledger_reconciles(clerk, store):
    order = make_paid_order(lines=[(ProductFactory(), 3, "10.00")])
    request = make_return(order=order)
    line = request.lines.get()
    request = _received_and_inspected(request, clerk, store, counts=[{"return_line": line, "quantity_received": 2}])

    request = return_refund(actor=clerk, return_request=request)

    assert request.status == ReturnStatus.RESOLVED and request.refunded_amount == Decimal("20.00")
    refund = Charge.objects.get(order=order, kind=ChargeKind.REFUND)
    assert (refund.amount, refund.status) == (Decimal("-20.00"), ChargeStatus.PENDING)
    _reconciles(order, returned=Decimal("20.00"))
    assert "20.00 EUR" in Notification.objects.get(event="return_refunded").body


def test_a_line_returned_in_parts_gives_back_exactly_its_amount(clerk, store):
    order = make_paid_order(lines=[(ProductFactory(), 3, "10.00")])
    order.lines.update(discount=Decimal("0.01"))  # 29.99 over three units: 9.996... each
    order.total = Decimal("29.99")
    order.save(update_fields=["total"])
    Charge.objects.filter(order=order).update(amount=Decimal("29.99"))
    line = order.lines.get()
    given = Decimal("0")
    for _ in range(3):
        request = make_return(order=order, lines=[{"order_line": line, "quantity": 1, "reason": "other"}])
        request = _received_and_inspected(request, clerk, store)
        given += return_refund(actor=clerk, return_request=request).refunded_amount

    assert given == Decimal("29.99")
    _reconciles(order, returned=given)


def test_returns_of_one_line_open_at_once_and_resolved_out_of_order_still_give_back_its_amount(clerk, store):
    order = make_paid_order(lines=[(ProductFactory(), 3, "10.00")])
    order.lines.update(discount=Decimal("0.01"))
    order.total = Decimal("29.99")
    order.save(update_fields=["total"])
    Charge.objects.filter(order=order).update(amount=Decimal("29.99"))
    line = order.lines.get()
    requests = [make_return(order=order, lines=[{"order_line": line, "quantity": 1, "reason": "other"}]) for _ in "abc"]
    requests = [_received_and_inspected(request, clerk, store) for request in requests]

    given = [return_refund(actor=clerk, return_request=request).refunded_amount for request in reversed(requests)]

    assert given == [Decimal("10.00"), Decimal("9.99"), Decimal("10.00")]  # the units of 29.99, in turn
    assert sum(given) == Decimal("29.99")
    _reconciles(order, returned=sum(given))


def test_units_cancelled_before_a_return_are_not_given_back_twice(clerk, store):
    """8 units worth 1.00: one cancelled gave back 0.13, the seven returned give back the 0.87 left."""
    from orders.services.orders import order_lines_cancel

    eight = {"product": ProductFactory(), "quantity": 8, "unit_price": Decimal("0.13"), "discount": Decimal("0.04")}
    order = make_order(lines=[eight], fulfilment="carry_out")
    line = order.lines.get()
    charges_capture_all(order)
    order_lines_cancel(actor=None, order=order, lines=[(line, 1)], reason="one was missing")
    line.refresh_from_db()
    request = make_return(order=order, lines=[{"order_line": line, "quantity": 7, "reason": "other"}])
    request = _received_and_inspected(request, clerk, store)

    assert return_refund(actor=clerk, return_request=request).refunded_amount == Decimal("0.87")
    _reconciles(order, returned=Decimal("0.87"))


def charges_capture_all(order):
    from orders.services.charges import charges_capture
    from orders.services.orders import order_lock

    with transaction.atomic():
        charges_capture(order=order_lock(order.pk), value=order.total, final=True)


def test_money_a_voucher_paid_comes_back_as_store_credit_never_as_cash_and_without_a_bonus(clerk, store):
    from returns.services.vouchers import voucher_redeem

    ReturnPolicy.objects.update(store_credit_bonus_percent=Decimal("10.00"))
    order = make_order(lines=[(ProductFactory(), 1, "50.00")], fulfilment="carry_out")
    voucher = make_voucher(customer=order.customer, amount="30.00")
    voucher_redeem(actor=clerk, voucher=voucher, amount=Decimal("30.00"), order=order)
    charges_capture_all(order)  # the card pays the other 20.00
    request = _received_and_inspected(make_return(order=order), clerk, store)

    return_refund(actor=clerk, return_request=request)

    refund = Charge.objects.get(order=order, kind=ChargeKind.REFUND)
    assert refund.amount == Decimal("-20.00")  # only what the card paid goes back to the card
    back = Voucher.objects.get(return_request=request)
    assert back.initial_amount == Decimal("30.00")  # the voucher's share, at face value
    _reconciles(order, returned=Decimal("50.00"))


def test_store_credit_for_a_voucher_paid_order_earns_no_bonus_on_the_vouchers_share(clerk, store):
    from returns.services.vouchers import voucher_redeem

    ReturnPolicy.objects.update(store_credit_bonus_percent=Decimal("10.00"))
    order = make_order(lines=[(ProductFactory(), 1, "50.00")], fulfilment="carry_out")
    voucher = make_voucher(customer=order.customer, amount="50.00")
    voucher_redeem(actor=clerk, voucher=voucher, amount=Decimal("50.00"), order=order)
    request = _received_and_inspected(make_return(order=order, resolution="store_credit"), clerk, store)

    return_refund(actor=clerk, return_request=request)

    assert Voucher.objects.get(return_request=request).initial_amount == Decimal("50.00")  # not 55.00
    assert not Charge.objects.filter(order=order, kind=ChargeKind.REFUND).exists()


def test_a_return_is_resolved_where_it_was_received(clerk, store):
    elsewhere = AssociateProfileFactory(user__roles=["associate"]).user
    request = _received_and_inspected(
        make_return(order=make_paid_order(lines=[(ProductFactory(), 1, "9.00")])), clerk, store
    )

    with pytest.raises(PermissionDenied):
        return_refund(actor=elsewhere, return_request=request)
    assert return_refund(actor=clerk, return_request=request).status == ReturnStatus.RESOLVED


def test_store_credit_issues_a_voucher_with_the_policys_bonus(clerk, store):
    ReturnPolicy.objects.update(store_credit_bonus_percent=Decimal("10.00"))
    order = make_paid_order(lines=[(ProductFactory(), 1, "50.00")])
    request = _received_and_inspected(make_return(order=order, resolution="store_credit"), clerk, store)

    return_refund(actor=clerk, return_request=request)

    voucher = Voucher.objects.get(return_request=request)
    assert (voucher.initial_amount, voucher.balance, voucher.source) == (
        Decimal("55.00"),
        Decimal("55.00"),
        VoucherSource.RETURN,
    )
    credit = Charge.objects.get(order=order, kind=ChargeKind.STORE_CREDIT)
    assert (credit.amount, credit.status) == (Decimal("-50.00"), ChargeStatus.SETTLED)
    _reconciles(order, returned=Decimal("50.00"))


def test_an_exchange_for_a_dearer_product_charges_the_difference_on_the_new_order(clerk, store):
    dearer = ProductFactory(price=Decimal("80.00"))
    order = make_paid_order(lines=[(ProductFactory(), 1, "50.00")])
    line = order.lines.get()
    request = make_return(
        order=order,
        resolution="exchange",
        lines=[{"order_line": line, "quantity": 1, "reason": "doesnt_fit", "exchange_product": dearer}],
    )
    request = _received_and_inspected(request, clerk, store)

    request = return_refund(actor=clerk, return_request=request)

    replacement = request.exchange_order
    assert replacement.total == Decimal("80.00") and replacement.lines.get().product == dearer
    kinds = sorted((c.kind, c.amount) for c in replacement.charges.all())
    assert kinds == [(ChargeKind.AUTHORISATION, Decimal("30.00")), (ChargeKind.EXCHANGE, Decimal("50.00"))]
    assert Charge.objects.get(order=order, kind=ChargeKind.EXCHANGE).amount == Decimal("-50.00")
    _reconciles(order, returned=Decimal("50.00"))
    _reconciles(replacement)


def test_an_exchange_for_a_cheaper_product_refunds_the_difference(clerk, store):
    cheaper = ProductFactory(price=Decimal("35.00"))
    order = make_paid_order(lines=[(ProductFactory(), 1, "50.00")])
    request = make_return(
        order=order,
        resolution="exchange",
        lines=[{"order_line": order.lines.get(), "quantity": 1, "reason": "doesnt_fit", "exchange_product": cheaper}],
    )
    request = _received_and_inspected(request, clerk, store)

    request = return_refund(actor=clerk, return_request=request)

    assert Charge.objects.get(order=order, kind=ChargeKind.REFUND).amount == Decimal("-15.00")
    assert Charge.objects.get(order=order, kind=ChargeKind.EXCHANGE).amount == Decimal("-35.00")
    assert ledger_of(request.exchange_order).past == Decimal("35.00")
    _reconciles(order, returned=Decimal("50.00"))


def test_an_exchange_names_the_product_wanted_and_only_an_exchange_does():
    order = make_paid_order(lines=[(ProductFactory(), 1, "50.00")])
    line = order.lines.get()

    with pytest.raises(RuleViolation, match="names the product wanted"):
        make_return(order=order, resolution="exchange", lines=[{"order_line": line, "quantity": 1, "reason": "other"}])
    with pytest.raises(RuleViolation, match="Only an exchange"):
        make_return(
            order=order,
            lines=[{"order_line": line, "quantity": 1, "reason": "other", "exchange_product": ProductFactory()}],
        )


def test_a_return_is_resolved_once_and_never_gives_money_twice(clerk, store):
    order = make_paid_order(lines=[(ProductFactory(), 1, "30.00")])
    request = _received_and_inspected(make_return(order=order), clerk, store)
    return_refund(actor=clerk, return_request=request)

    with pytest.raises(TransitionNotAllowed):
        return_refund(actor=clerk, return_request=request)
    assert Charge.objects.filter(order=order, kind=ChargeKind.REFUND).count() == 1


def test_every_step_writes_the_timeline_and_tells_the_customer(clerk, store):
    order = make_paid_order(lines=[(ProductFactory(), 1, "30.00")])
    request = _received_and_inspected(make_return(order=order), clerk, store)
    return_refund(actor=clerk, return_request=request)

    summaries = list(
        Touchpoint.objects.filter(kind=TouchpointKind.RETURN).order_by("id").values_list("summary", flat=True)
    )
    assert [s.split(":")[0] for s in summaries] == [
        f"Return {request.number} requested",
        f"Return {request.number} approved",
        f"Return {request.number} received at {store.name}",
        f"Return {request.number} inspected",
        f"Return {request.number} refunded",
    ]
    events = list(Notification.objects.order_by("id").values_list("event", flat=True))
    assert [e for e in events if e.startswith("return_")] == ["return_approved", "return_received", "return_refunded"]


def test_the_label_free_code_is_a_secret_of_the_message(store):
    order = make_paid_order(lines=[(ProductFactory(), 1, "30.00")])
    request = make_return(order=order, method="kiosk_drop_off", drop_off_location=LocationFactory(kind="kiosk"))

    message = Notification.objects.get(event="return_approved")
    assert request.drop_off_code in message.body
    assert message.secrets == [request.drop_off_code]
    assert request.drop_off_code not in message.masked(message.body)
