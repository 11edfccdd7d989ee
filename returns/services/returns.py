"""The return workflow: request (held to the policy, approved by the rules or waiting for a
person), approve or reject, receive, inspect and dispose, resolve (refund, store credit or an
exchange). Every step is a transition of `ReturnRequest` with its history, a "return" touchpoint
and, where the customer should know, a message.

Locks, always in this order: the return row (`transition_apply`), then the order (`order_lock`),
then inventory rows (conditional UPDATEs) and vouchers.
"""

from collections import defaultdict
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from core.choices import Channel, TouchpointKind
from core.codes import secret_code
from core.errors import RuleViolation
from core.models import Inventory, Location
from core.money import quantize
from core.services.inventory import check_home_location, inventory_adjust
from core.services.notifications import notify
from core.services.timeline import touchpoint_record
from core.workflow import transition_apply
from orders.choices import ChargeKind
from orders.models import Order, OrderLine
from orders.services.charges import charges_return, check_approval_limit, voucher_share_left
from orders.services.orders import PAYMENT_KINDS, order_create, order_lock
from returns.choices import (
    DROP_OFF_KINDS,
    LABEL_FREE_METHODS,
    RESTOCKING_DISPOSITIONS,
    Resolution,
    VoucherSource,
)
from returns.models import InspectedItem, ReturnLine, ReturnRequest
from returns.services import policy
from returns.services.vouchers import voucher_issue

MAX_LINES = 200


# --- request ----------------------------------------------------------------------------------


def return_request_create(
    *,
    actor,
    order: Order,
    lines: list[dict],
    method: str,
    channel: str,
    resolution: str = Resolution.REFUND,
    drop_off_location: Location | None = None,
) -> ReturnRequest:
    """Start a return of `lines` ([{"order_line": OrderLine or id, "quantity", "reason",
    "reason_detail", "exchange_product"}]) of a delivered order. The policy refuses it with a
    reason per line, or accepts it: approved by the rules when nothing flags it, else waiting for
    a person. `actor` is the associate, agent or the customer's own login."""
    _check_method(method, drop_off_location)
    with transaction.atomic():
        order = order_lock(order.pk)  # two requests for the same units must not both pass
        items = _resolve_lines(order, lines, resolution)
        assessment = policy.assess(order=order, lines=items)
        now = timezone.now()
        request = ReturnRequest.objects.create(
            order=order,
            customer_id=order.customer_id,
            channel=channel,
            method=method,
            drop_off_location=drop_off_location,
            resolution=resolution,
            currency=order.currency,
            value=assessment.value,
            flags=[str(flag) for flag in assessment.flags],
            requested_by=actor,
            created_at=now,
        )
        ReturnLine.objects.bulk_create(
            ReturnLine(
                return_request=request,
                order_line=item["order_line"],
                product_id=item["order_line"].product_id,
                quantity=item["quantity"],
                reason=item["reason"],
                reason_detail=(item.get("reason_detail") or "")[:500],
                value=assessment.values[item["order_line"].pk],
                exchange_product=item.get("exchange_product"),
            )
            for item in items
        )
        request.order = order
        units = sum(item["quantity"] for item in items)
        _touchpoint(
            request, actor, f"Return {request.number} requested: {_items(units)}, {_money(request.value, request)}"
        )
        if assessment.flags:
            _notify(request, "return_requested")
        else:
            request = _decide(request, "approve", None, "Approved by the return policy", at=now)
            request.order = order
            _approved(request, None)
    return request


def _check_method(method: str, location: Location | None) -> None:
    kinds = DROP_OFF_KINDS.get(method)
    if kinds is None:
        if location is not None:
            raise RuleViolation("Only drop-off methods take a drop-off location.", code="location_not_needed")
        return
    if location is None:
        raise RuleViolation("Say where the parcel will be dropped off.", code="drop_off_location_required")
    if not location.is_active or location.kind not in kinds:
        raise RuleViolation(
            f"{location.name} does not take returns of this kind ({', '.join(kinds)} only).",
            code="not_a_drop_off_location",
        )


def _resolve_lines(order: Order, lines: list[dict], resolution: str) -> list[dict]:
    if not lines:
        raise RuleViolation("Name at least one line to return.", code="no_lines")
    if len(lines) > MAX_LINES:
        raise RuleViolation(f"At most {MAX_LINES} lines per return.", code="too_many_lines")
    order_lines = {line.pk: line for line in OrderLine.objects.filter(order=order).select_related("product")}
    seen, items = set(), []
    for item in lines:
        line_id = getattr(item["order_line"], "pk", item["order_line"])
        if line_id not in order_lines:
            raise RuleViolation(f"Line {line_id} is not a line of order {order.number}.", code="line_not_in_order")
        if line_id in seen:
            raise RuleViolation(f"Line {line_id} is named twice.", code="duplicate_line")
        seen.add(line_id)
        if item["quantity"] < 1:
            raise RuleViolation("Return at least one unit of each line named.", code="quantity")
        exchange = item.get("exchange_product")
        if resolution == Resolution.EXCHANGE:
            if exchange is None:
                raise RuleViolation(
                    f"Line {line_id}: an exchange names the product wanted instead.", code="exchange_product_required"
                )
            if not exchange.is_active or exchange.currency != order.currency:
                raise RuleViolation(f"{exchange.name} cannot be ordered in {order.currency}.", code="exchange_product")
        elif exchange is not None:
            raise RuleViolation("Only an exchange names a product wanted instead.", code="exchange_product_not_needed")
        items.append({**item, "order_line": order_lines[line_id]})
    return items


# --- decisions --------------------------------------------------------------------------------


def return_approve(*, actor, return_request: ReturnRequest, reason: str = "") -> ReturnRequest:
    """A person approves a request the rules held back, within their approval limit."""
    check_approval_limit(actor, return_request.value, return_request.currency)
    with transaction.atomic():
        request = _decide(return_request, "approve", actor, reason)
        _approved(request, actor)
    return request


def _decide(request: ReturnRequest, name: str, actor, reason: str, at=None) -> ReturnRequest:
    """The approve or reject transition, recording who decided, when and why."""
    return transition_apply(
        request,
        name,
        actor=actor,
        reason=reason,
        extra_fields=["decided_by", "decided_at", "decision_reason"],
        by=actor,
        at=at or timezone.now(),
        note=reason[:500],
    )


def _approved(request: ReturnRequest, actor) -> None:
    """What follows an approval: a label-free drop-off gets its code now (a request still waiting,
    rejected or cancelled has none to misuse), the timeline and the customer's instructions."""
    if request.method in LABEL_FREE_METHODS:
        request.drop_off_code = secret_code()
        request.save(update_fields=["drop_off_code"])
    how = request.get_method_display().lower()
    _touchpoint(request, actor, f"Return {request.number} approved: {how}")
    _notify(request, "return_approved", secrets=[request.drop_off_code] if request.drop_off_code else ())


def return_reject(*, actor, return_request: ReturnRequest, reason: str) -> ReturnRequest:
    """Refuse a request, saying why; the customer is told the reason. Like an approval, a decision
    on a request above the actor's approval limit is a manager's."""
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation("Say why the return is rejected; the customer is told.", code="reason_required")
    check_approval_limit(actor, return_request.value, return_request.currency)  # deciding either way
    with transaction.atomic():
        request = _decide(return_request, "reject", actor, reason)
        _touchpoint(request, actor, f"Return {request.number} rejected: {reason}")
        _notify(request, "return_rejected", reason=reason)
    return request


def return_cancel(*, actor, return_request: ReturnRequest, reason: str = "") -> ReturnRequest:
    """The customer (or staff for them) calls the return off before it arrives; when staff do, the
    customer is told (their drop-off code no longer works)."""
    with transaction.atomic():
        request = transition_apply(return_request, "cancel", actor=actor, reason=reason)
        _touchpoint(request, actor, f"Return {request.number} cancelled{': ' + reason if reason else ''}")
        if actor is None or getattr(actor, "customer", None) is None:  # the customer knows what they did
            _notify(request, "return_cancelled", reason=reason)
    return request


# --- receiving and inspection -----------------------------------------------------------------


def return_receive(*, actor, return_request: ReturnRequest, location: Location, lines=None) -> ReturnRequest:
    """Record what arrived at `location`: `lines` [{"return_line": ReturnLine or id,
    "quantity_received": n}] (default: as announced). Fewer than announced is kept beside the
    request; more is refused (the approval covered what was announced: extra units are a new
    return, held to the policy and its approval again)."""
    check_home_location(actor, location.pk, "Associates receive returns at their home location only.")
    with transaction.atomic():
        request = transition_apply(
            return_request,
            "receive",
            actor=actor,
            extra_fields=["received_by", "received_at", "received_location"],
            by=actor,
            at=timezone.now(),
            location=location,
        )
        return_lines = {line.pk: line for line in request.lines.select_related("order_line__product")}
        counts = _counts(return_lines, lines)
        order = order_lock(request.order_id)
        for line_id, received in counts.items():
            line = return_lines[line_id]
            if received > line.quantity:
                raise RuleViolation(
                    f"{line.order_line.product.name}: {line.quantity} unit(s) were announced and approved, not "
                    f"{received}; the customer starts a new return for the others.",
                    code="more_than_announced",
                    return_line=line_id,
                )
            line.quantity_received = received
        ReturnLine.objects.bulk_update(return_lines.values(), ["quantity_received"])
        request.order = order
        announced = sum(line.quantity for line in return_lines.values())
        arrived = sum(counts.values())
        difference = "" if arrived == announced else f" ({announced} announced)"
        _touchpoint(
            request,
            actor,
            f"Return {request.number} received at {location.name}: {_items(arrived)}{difference}",
            channel=Channel.STORE,
            location=location,
        )
        _notify(request, "return_received", arrived=arrived, announced=announced, location_name=location.name)
    return request


def _counts(return_lines: dict[int, ReturnLine], lines) -> dict[int, int]:
    if lines is None:
        return {pk: line.quantity for pk, line in return_lines.items()}
    counts = {}
    for item in lines:
        line_id = getattr(item["return_line"], "pk", item["return_line"])
        if line_id not in return_lines:
            raise RuleViolation(f"Line {line_id} is not a line of this return.", code="line_not_in_return")
        if line_id in counts:
            raise RuleViolation(f"Line {line_id} is counted twice.", code="duplicate_line")
        if item["quantity_received"] < 0:
            raise RuleViolation("Counts are zero or more.", code="quantity")
        counts[line_id] = item["quantity_received"]
    # a line nobody counted did not arrive
    return {pk: counts.get(pk, 0) for pk in return_lines}


def return_inspect(*, actor, return_request: ReturnRequest, items: list[dict]) -> ReturnRequest:
    """Grade what arrived and decide where each unit goes: `items` [{"return_line", "quantity",
    "grade", "disposition", "recovered_value"}] accounting for every unit received, no more.
    Restocked and open-box units go back on the shelf of the location that received them."""
    location_id = return_request.received_location_id
    if location_id is not None:
        check_home_location(actor, location_id, "Associates inspect returns at their home location only.")
    with transaction.atomic():
        now = timezone.now()
        request = transition_apply(return_request, "inspect", actor=actor, extra_fields=["inspected_at"], at=now)
        return_lines = {line.pk: line for line in request.lines.select_related("order_line__product")}
        graded = defaultdict(int)
        rows = []
        for item in items:
            line_id = getattr(item["return_line"], "pk", item["return_line"])
            if line_id not in return_lines:
                raise RuleViolation(f"Line {line_id} is not a line of this return.", code="line_not_in_return")
            if item["quantity"] < 1 or item["recovered_value"] < 0:
                raise RuleViolation("Each graded item has one unit or more and a value of zero or more.", code="item")
            graded[line_id] += item["quantity"]
            rows.append(
                InspectedItem(
                    return_line=return_lines[line_id],
                    quantity=item["quantity"],
                    grade=item["grade"],
                    disposition=item["disposition"],
                    recovered_value=quantize(item["recovered_value"], request.currency),
                    location_id=request.received_location_id,
                    inspected_by=actor,
                    inspected_at=now,
                )
            )
        for pk, line in return_lines.items():
            if graded.get(pk, 0) != line.quantity_received:
                raise RuleViolation(
                    f"{line.order_line.product.name}: {line.quantity_received} unit(s) arrived, "
                    f"{graded.get(pk, 0)} graded; grade every unit that arrived.",
                    code="units_not_accounted",
                    return_line=pk,
                    received=line.quantity_received,
                    graded=graded.get(pk, 0),
                )
        InspectedItem.objects.bulk_create(rows)
        _restock(request, rows)
        recovered = sum((row.recovered_value for row in rows), Decimal("0"))
        _touchpoint(
            request,
            actor,
            f"Return {request.number} inspected: {_items(sum(graded.values()))}, "
            f"{_money(recovered, request)} recovered",
        )
    return request


def _restock(request: ReturnRequest, rows: list[InspectedItem]) -> None:
    """Units fit to sell again go on the receiving location's shelf (a stock row is made for a
    product it has not held before). As the system: the inspection's actor was checked."""
    units = defaultdict(int)
    for row in rows:
        if row.disposition in RESTOCKING_DISPOSITIONS:
            units[row.return_line.order_line.product_id] += row.quantity
    for product_id, quantity in sorted(units.items()):
        stock, _ = Inventory.objects.get_or_create(product_id=product_id, location_id=request.received_location_id)
        inventory_adjust(inventory=stock, actor=None, on_hand_delta=quantity)


# --- resolution -------------------------------------------------------------------------------


def return_refund(*, actor, return_request: ReturnRequest) -> ReturnRequest:
    """Give the customer what they chose for the units that arrived: a refund to the original
    payment (pending until the processor confirms it), a credit voucher (with the policy's bonus),
    or a replacement order whose price difference is charged or refunded. Money a credit voucher
    paid goes back as store credit, never to a card and never with a bonus (`_money_back`). The
    ledger of the returned order says where the money went; nothing is given twice (the
    transition is once)."""
    if return_request.received_location_id is not None:
        check_home_location(
            actor,
            return_request.received_location_id,
            "Associates resolve returns received at their home location only.",
        )
    with transaction.atomic():
        request = ReturnRequest.objects.select_for_update().get(pk=return_request.pk)
        order = order_lock(request.order_id)
        value = returned_value(request)
        request = transition_apply(
            request,
            "resolve",
            actor=actor,
            extra_fields=["resolved_by", "resolved_at", "refunded_amount"],
            by=actor,
            at=timezone.now(),
            amount=value,
        )
        request.order = order
        context = {"amount": value}
        if request.resolution == Resolution.EXCHANGE:
            replacement, difference, back = _exchange(request, order, value, actor)
            context.update(exchange_order=replacement.number if replacement else "", difference=difference, **back)
            summary = f"Return {request.number} exchanged" + (f" for order {replacement.number}" if replacement else "")
        else:
            back = _money_back(request, order, value, actor, as_credit=request.resolution == Resolution.STORE_CREDIT)
            context.update(back)
            summary = f"Return {request.number} " + (
                f"credited: voucher of {_money(back['voucher_amount'], request)}"
                if request.resolution == Resolution.STORE_CREDIT
                else f"refunded: {_money(value, request)}"
            )
        _touchpoint(request, actor, summary)
        _notify(request, "return_refunded", **context)
    return request


def _money_back(request: ReturnRequest, order: Order, amount: Decimal, actor, *, as_credit: bool) -> dict:
    """Give `amount` of the returned order's money back. The share credit vouchers paid and that
    no earlier return gave back comes first, as a new voucher at face value; the rest goes to the
    original payment, or, for store credit, onto the voucher with the policy's bonus. Returns what
    the message says: refunded to the payment, and the voucher's amount (0 when none)."""
    share = min(amount, voucher_share_left(order))
    rest = amount - share
    note = f"Return {request.number}"
    credit = share + (rest if as_credit else Decimal("0"))
    if credit:
        charges_return(order=order, kind=ChargeKind.STORE_CREDIT, amount=credit, actor=actor, note=note)
    if rest and not as_credit:
        charges_return(order=order, kind=ChargeKind.REFUND, amount=rest, actor=actor, note=note)
    voucher_amount = share + (with_bonus(rest, request.currency) if as_credit else Decimal("0"))
    if voucher_amount:
        voucher_issue(
            actor=actor,
            customer=order.customer,
            amount=voucher_amount,
            currency=request.currency,
            source=VoucherSource.RETURN,
            return_request=request,
            order=order,
            note=note,
            check_limit=False,  # the return's approval capped its value; the bonus is the policy's
        )
    return {"refunded": Decimal("0") if as_credit else rest, "voucher_amount": voucher_amount}


def returned_value(request: ReturnRequest) -> Decimal:
    """The value of the units that arrived, each line's valued after its cancelled units and what
    earlier resolved returns gave back (`policy.returned_units_value`). Caller holds the order's
    lock, so resolutions of one order's returns take turns."""
    total = Decimal("0")
    lines = list(request.lines.select_related("order_line"))
    earlier = policy.units_given_back([line.order_line_id for line in lines], exclude_return=request)
    for line in lines:
        total += policy.returned_units_value(
            line.order_line,
            line.quantity_received or 0,
            given_back=earlier.get(line.order_line_id, 0),
            currency=request.currency,
        )
    return total


def with_bonus(value: Decimal, currency: str) -> Decimal:
    found = policy.policy_for(currency)
    bonus = found.store_credit_bonus_percent if found else Decimal("0")
    return quantize(value * (100 + bonus) / 100, currency)


def _exchange(request: ReturnRequest, order: Order, value: Decimal, actor):
    """A replacement order for the products wanted instead, as many as arrived, at today's price.
    The returned units' value pays for it; the customer pays what it costs more (a hold on the new
    order) or gets back what it costs less (a refund on the returned order)."""
    lines = [
        {
            "product": line.exchange_product,
            "quantity": line.quantity_received,
            "unit_price": line.exchange_product.price,
        }
        for line in request.lines.select_related("exchange_product")
        if line.quantity_received and line.exchange_product_id
    ]
    if not lines:  # nothing arrived: nothing to replace
        return None, Decimal("0"), {"refunded": Decimal("0"), "voucher_amount": Decimal("0")}
    total = quantize(sum((line["quantity"] * line["unit_price"] for line in lines), Decimal("0")), order.currency)
    carried = min(value, total)
    note = f"Return {request.number}"
    payments = []
    if carried:
        payments.append({"kind": ChargeKind.EXCHANGE, "amount": carried, "reference": request.number})
        charges_return(order=order, kind=ChargeKind.EXCHANGE, amount=carried, actor=actor, note=note)
    if total > carried:
        payments.append({"kind": ChargeKind.AUTHORISATION, "amount": total - carried, "reference": ""})
    back = {"refunded": Decimal("0"), "voucher_amount": Decimal("0")}
    if value > total:
        back = _money_back(request, order, value - total, actor, as_credit=False)
    replacement = order_create(
        actor=actor,
        customer=order.customer,
        lines=lines,
        payments=payments,
        payment_kinds=(*PAYMENT_KINDS, ChargeKind.EXCHANGE),
        channel=order.channel,
        currency=order.currency,
        location=request.received_location,
        fulfilment=order.fulfilment,
    )
    request.exchange_order = replacement
    request.save(update_fields=["exchange_order"])
    return replacement, total - value, back


# --- what the timeline and the messages say ---------------------------------------------------


def _items(count: int) -> str:
    return f"{count} item{'s' if count != 1 else ''}"


def _money(amount: Decimal, request: ReturnRequest) -> str:
    return f"{amount} {request.currency}"


def _touchpoint(request: ReturnRequest, actor, summary: str, *, channel=None, location=None) -> None:
    """A "return" row on the timeline: on the channel the request came by unless a step happens
    elsewhere (receiving is at a store); staff actors are named, the customer's own login is not."""
    staff = actor is not None and getattr(actor, "customer", None) is None
    touchpoint_record(
        customer=request.order.customer,
        kind=TouchpointKind.RETURN,
        channel=channel or request.channel,
        summary=summary,
        associate=actor if staff else None,
        location=location or request.received_location or request.drop_off_location,
        order_number=request.order.number,
        subject=request,
    )


def _notify(request: ReturnRequest, event: str, secrets=(), **context) -> None:
    lines = list(request.lines.select_related("order_line__product"))
    notify(
        customer=request.order.customer,
        event=event,
        dedupe_key=f"{event}:{request.number}",
        order_number=request.order.number,
        secrets=secrets,
        context={
            "return_number": request.number,
            "order_number": request.order.number,
            "method": request.get_method_display(),
            "resolution": request.resolution,
            "resolution_label": request.get_resolution_display(),
            "drop_off_code": request.drop_off_code or "",
            "drop_off_location": request.drop_off_location.name if request.drop_off_location_id else "",
            "currency": request.currency,
            "value": request.value,
            "items": [f"{line.quantity} × {line.order_line.product.name}" for line in lines],
            **context,
        },
    )
