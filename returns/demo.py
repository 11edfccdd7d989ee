"""The returns part of every demo customer's story: return requests in every state (awaiting
approval, approved and on their way, received, inspected, resolved, rejected, cancelled) with
their lines, inspections and the money given back in the order's charges ledger; and credit
vouchers with their ledger: the goodwill vouchers the timeline tells of, store credit chosen
for a return, and the app's demo customer's voucher spent on the oven order.

Registered with `core.demo.registry`; it runs after the orders step (INSTALLED_APPS order) and
reads that batch's unsaved orders, lines, charges and fulfilment rows. Rows are written as the
services leave them (`returns.services.returns` and `.vouchers`): a return's value is the value
of its lines' units (`units_value`), a refund is a pending REFUND charge until the processor
confirms it (settled a few days later), store credit a settled STORE_CREDIT charge and a voucher
whose balance is its ISSUE row, so every order keeps
``past + pending == total - cancelled - credits - returned value``. Each step of a return writes
the touchpoint the service would, linked to the return.
"""

import random
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from core.choices import Channel, TouchpointKind
from core.codes import secret_code
from core.demo.catalogue import FASHION, category_of
from core.demo.places import RETURNS_CENTRE
from core.demo.registry import customer_story
from core.demo.staff import DEMO_ADMIN, DEMO_ASSOCIATE, DEMO_MANAGER
from core.demo.story import Story
from core.demo.world import World
from core.demo.writer import Batch
from core.models import Location, User
from core.money import quantize
from orders.choices import ChargeKind, ChargeStatus, DeliveryStatus, FulfilmentMethod, PickupStatus
from orders.models import Charge, DeliveryLine, Order, OrderLine, PickupLine, ShipmentLine
from orders.services.charges import units_value
from returns.choices import (
    RETAILER_FAULT_REASONS,
    Disposition,
    ItemGrade,
    Resolution,
    ReturnFlag,
    ReturnMethod,
    ReturnReason,
    ReturnStatus,
    VoucherSource,
    VoucherStatus,
    VoucherTransactionKind,
)
from returns.models import InspectedItem, ReturnLine, ReturnPolicy, ReturnRequest, Voucher, VoucherTransaction
from returns.services.vouchers import DEFAULT_VALID_DAYS, transaction_reference

RETURN_SHARE = 0.07  # of orders with a returnable line that arrived: one line comes back
REJECTED_SHARE = 0.05  # of returns a person had to look at: refused
CANCELLED_SHARE = 0.04  # of returns: the customer kept it after all
STORE_CREDIT_SHARE = 0.15  # of returns: a credit voucher instead of the money
AWAITING_APPROVAL_SHARE = 0.02  # of customers with an order in its return window: a request in the queue
AWAITING_RECEIPT_SHARE = 0.015  # of them: approved, to be dropped off at a store
REFUND_SETTLES_DAYS = 5  # the payment processor confirms a refund this long after it was given
SERVICE_TIMES = {"rules": timedelta(0), "counter": timedelta(minutes=4)}

# What customers say, and the reason on the return line it stands for.
REASONS = {
    "fashion": (
        ("too small", ReturnReason.DOESNT_FIT),
        ("too large", ReturnReason.DOESNT_FIT),
        ("colour differs from the photos", ReturnReason.NOT_AS_DESCRIBED),
        ("changed my mind", ReturnReason.CHANGED_MIND),
        ("fabric feels thin", ReturnReason.OTHER),
    ),
    "other": (
        ("doesn't fit the room", ReturnReason.DOESNT_FIT),
        ("colour differs from the photos", ReturnReason.NOT_AS_DESCRIBED),
        ("changed my mind", ReturnReason.CHANGED_MIND),
        ("arrived damaged", ReturnReason.DAMAGED),
        ("found a better fit elsewhere", ReturnReason.CHANGED_MIND),
        ("stopped working within a week", ReturnReason.DEFECTIVE),
    ),
}
REJECTIONS = (
    "Signs of use beyond trying it out; we cannot take it back",
    "Parts and original packaging missing; please contact us to arrange a repair instead",
    "Customised for the customer; not returnable as agreed at the sale",
)
GOODWILL_ISSUED = re.compile(r"^Goodwill voucher of €([\d,]+\.\d{2}) issued")


def eur(value: Decimal) -> str:
    return f"€{value:,.2f}"


@dataclass
class Terms:
    """The EUR `ReturnPolicy`, read once per run (the demo prices everything in euros)."""

    auto_approve_limit: Decimal
    bonus_percent: Decimal
    voucher_valid_days: int


@dataclass
class Sales:
    """The batch's orders as the returns step reads them, found by object identity (unsaved rows)."""

    orders: dict[int, list[Order]] = field(default_factory=lambda: defaultdict(list))  # by id(customer)
    by_number: dict[str, Order] = field(default_factory=dict)
    lines: dict[int, list[OrderLine]] = field(default_factory=lambda: defaultdict(list))  # by id(order)
    charges: dict[int, list[Charge]] = field(default_factory=lambda: defaultdict(list))  # by id(order)
    arrived: dict[int, datetime] = field(default_factory=dict)  # by id(line): when its units last arrived
    returned: set[int] = field(default_factory=set)  # id(line) of lines in a return


@dataclass
class Context:
    """One batch: what the orders step built, and the lists this step's rows go to."""

    world: World
    batch: Batch
    terms: Terms
    sales: Sales
    users: dict[int, User]  # the staff by primary key, for the touchpoints' associates
    requests: list[ReturnRequest]
    lines: list[ReturnLine]
    inspections: list[InspectedItem]
    vouchers: list[Voucher]
    transactions: list[VoucherTransaction]
    charges: list[Charge]
    returns_of: dict[int, list[ReturnLine]] = field(default_factory=lambda: defaultdict(list))  # by id(customer)


@customer_story
def returns_and_vouchers(world: World, batch: Batch) -> None:
    """Each new customer's returns and credit vouchers; the app's demo customer gets its scripted ones."""
    ctx = Context(
        world,
        batch,
        _terms(world),
        _sales(batch),
        users={user.pk: user for user in world.users.values()},
        requests=batch.rows(ReturnRequest, "return requests"),  # parents before children
        lines=batch.rows(ReturnLine, "return lines"),
        inspections=batch.rows(InspectedItem, "inspected items"),
        vouchers=batch.rows(Voucher, "credit vouchers"),
        transactions=batch.rows(VoucherTransaction, "voucher transactions"),
        charges=batch.rows(Charge, "charges"),
    )
    for story in batch.stories:
        if story.scripted:
            _app_customer(story, ctx)
        else:
            _goodwill_vouchers(story, ctx)
            _random_returns(story, ctx)


def _terms(world: World) -> Terms:
    if "return terms" not in world.memo:
        found = ReturnPolicy.objects.filter(currency="EUR").first()
        world.memo["return terms"] = Terms(
            found.auto_approve_limit if found else Decimal("100.00"),
            found.store_credit_bonus_percent if found else Decimal("0"),
            found.voucher_valid_days if found else DEFAULT_VALID_DAYS,
        )
    return world.memo["return terms"]


def _sales(batch: Batch) -> Sales:
    """Index what the orders step built; when each line arrived, as `policy.delivered_on` reads it."""
    sales = Sales()
    for order in batch.rows(Order):
        sales.orders[id(order.customer)].append(order)
        sales.by_number[order.number] = order
    for line in batch.rows(OrderLine):
        sales.lines[id(line.order)].append(line)
        if line.order.fulfilment == FulfilmentMethod.CARRY_OUT:
            sales.arrived[id(line)] = line.order.placed_at
    for charge in batch.rows(Charge):
        sales.charges[id(charge.order)].append(charge)

    def arrived(line: OrderLine, at: datetime | None) -> None:
        if at is not None and (id(line) not in sales.arrived or at > sales.arrived[id(line)]):
            sales.arrived[id(line)] = at

    for row in batch.rows(ShipmentLine):
        arrived(row.order_line, row.shipment.delivered_at)
    for row in batch.rows(DeliveryLine):
        delivered = (DeliveryStatus.DELIVERED, DeliveryStatus.PARTIALLY_DELIVERED)
        if row.delivery.status in delivered and (row.quantity_received or 0) > 0:
            arrived(row.order_line, row.delivery.recorded_at)
    for row in batch.rows(PickupLine):
        if row.pickup.status == PickupStatus.COLLECTED:
            arrived(row.order_line, row.pickup.collected_at)
    return sales


def _units_delivered(line: OrderLine) -> int:
    if line.order.fulfilment == FulfilmentMethod.CARRY_OUT:
        return line.quantity - line.quantity_cancelled
    return line.quantity_delivered


# --- the plan of one return --------------------------------------------------------------------


@dataclass
class Plan:
    """What the customer does: which units come back, why, when they ask and how they send them."""

    order: Order
    line: OrderLine
    quantity: int
    said: str  # the customer's words
    reason: str
    requested_at: datetime
    channel: str
    method: str
    drop_off: Location | None  # where the customer brings it (a store, a pickup point)
    receiver: Location  # where it is received and inspected
    resolution: str = Resolution.REFUND
    fate: str = "through"  # "through", "rejected", "cancelled", "awaiting_approval", "awaiting_receipt"
    requested_by: User | None = None

    @property
    def at_counter(self) -> bool:
        return self.channel == Channel.STORE


@dataclass
class Timeline:
    """What became of a plan by now: each step that happened, and the state it left the return in."""

    status: str = ReturnStatus.REQUESTED
    decided_at: datetime | None = None
    decided_by: User | None = None
    decision_reason: str = ""
    cancelled_at: datetime | None = None
    received_at: datetime | None = None
    receiver: User | None = None
    inspected_at: datetime | None = None
    resolved_at: datetime | None = None


def _reason(rng: random.Random, line: OrderLine) -> tuple[str, str]:
    return rng.choice(REASONS["fashion" if category_of(line.product) in FASHION else "other"])


def _plan(story: Story, order: Order, line: OrderLine, requested_at: datetime, *, at_store: float) -> Plan:
    """Over the counter at the home store (`at_store` of the time), or from home: a parcel with a
    label, or dropped at a pickup point with a QR code, both to the returns centre."""
    rng, world = story.rng, story.world
    said, reason = _reason(rng, line)
    common = {"order": order, "line": line, "quantity": _units_delivered(line), "said": said, "reason": reason}
    if rng.random() < at_store:
        store = world.locations[story.home_store]
        return Plan(
            **common,
            requested_at=requested_at,
            channel=Channel.STORE,
            method=ReturnMethod.STORE_DROP_OFF,
            drop_off=store,
            receiver=store,
            requested_by=world.associate_for(rng, story.home_store),
        )
    channel = rng.choice((Channel.WEB, Channel.APP))
    centre = world.locations[RETURNS_CENTRE]
    points = world.pickup_points.get(story.address.country) or []
    if points and rng.random() < 0.4:
        method, drop_off = ReturnMethod.PUDO_DROP_OFF, rng.choice(points)
    else:
        method, drop_off = ReturnMethod.CARRIER_LABEL, None
    return Plan(**common, requested_at=requested_at, channel=channel, method=method, drop_off=drop_off, receiver=centre)


def _random_returns(story: Story, ctx: Context) -> None:
    """Now and then a line of an order comes back, from a day to four weeks after it arrived;
    a few customers have a request still waiting for a manager, or approved and not yet dropped off."""
    rng, now = story.rng, ctx.world.now
    sales = ctx.sales
    for order in sales.orders[id(story.customer)]:
        candidates = [line for line in _returnable(sales, order) if id(line) not in sales.returned]
        if not candidates or rng.random() >= RETURN_SHARE:
            continue
        line = rng.choice(candidates)
        window = line.product.return_window_days
        requested_at = story.at(sales.arrived[id(line)], rng.randint(1, max(1, min(window, 28) - 1)), 9, 18)
        if requested_at > now:
            continue
        plan = _plan(story, order, line, requested_at, at_store=0.6)
        draw = rng.random()
        if draw < CANCELLED_SHARE:
            plan.fate = "cancelled"
        elif draw < CANCELLED_SHARE + REJECTED_SHARE:
            plan.fate = "rejected"  # only what a person looks at (see `_timeline`)
        if rng.random() < STORE_CREDIT_SHARE:
            plan.resolution = Resolution.STORE_CREDIT
        _tell(story, ctx, plan)
    _open_request(story, ctx)


def _returnable(sales: Sales, order: Order) -> list[OrderLine]:
    return [
        line
        for line in sales.lines[id(order)]
        if line.product.returnable and id(line) in sales.arrived and _units_delivered(line) > 0
    ]


def _open_request(story: Story, ctx: Context) -> None:
    """A request made in the last two days for an order still in its return window: waiting for
    a manager (worth more than the rules approve alone, within the manager's limit), or approved
    and to be dropped off at the home store."""
    rng, now = story.rng, ctx.world.now
    sales = ctx.sales
    open_lines = [
        line
        for order in sales.orders[id(story.customer)]
        for line in _returnable(sales, order)
        if id(line) not in sales.returned
        and sales.arrived[id(line)] + timedelta(days=line.product.return_window_days) > now + timedelta(days=2)
    ]
    if not open_lines:
        return
    draw = rng.random()
    if draw >= AWAITING_APPROVAL_SHARE + AWAITING_RECEIPT_SHARE:
        return
    if draw < AWAITING_APPROVAL_SHARE:
        fate = "awaiting_approval"
        limit, most = ctx.terms.auto_approve_limit, _limit(ctx.world.users[DEMO_MANAGER])
        open_lines = [line for line in open_lines if limit < _value(line, _units_delivered(line)) <= most]
        if not open_lines:
            return
    else:
        fate = "awaiting_receipt"
    line = rng.choice(open_lines)
    earliest = sales.arrived[id(line)] + timedelta(hours=1)
    requested_at = max(earliest, now - timedelta(minutes=rng.randint(30, 48 * 60)))
    plan = _plan(story, line.order, line, requested_at, at_store=0.0)
    if fate == "awaiting_receipt":
        store = story.world.locations[story.home_store]
        plan.method, plan.drop_off, plan.receiver = ReturnMethod.STORE_DROP_OFF, store, store
    plan.fate = fate
    _tell(story, ctx, plan)


def _value(line: OrderLine, units: int) -> Decimal:
    return units_value(line, units, line.order.currency)


def _limit(user: User) -> Decimal:
    profile = getattr(user, "associate", None)
    return profile.approval_limit if profile is not None else Decimal("0")


def _approver(world: World, value: Decimal) -> User:
    """The demo manager, or the administrator above the manager's approval limit."""
    manager = world.users[DEMO_MANAGER]
    return manager if value <= _limit(manager) else world.users[DEMO_ADMIN]


# --- telling one return ------------------------------------------------------------------------


def _timeline(story: Story, plan: Plan, value: Decimal, flags: list[str]) -> Timeline:
    """Decided by the rules at once or by a person (within minutes at the counter, within a day
    otherwise); received over the counter at once or at the returns centre a few days later;
    inspected straight away at the counter, within two days at the centre; resolved at the counter
    at once, from the centre with the next payment run. The story stops before the first step
    still in the future."""
    rng, world = story.rng, story.world
    now = world.now
    done = Timeline()
    if flags:
        if plan.fate == "awaiting_approval":
            return done
        wait = timedelta(minutes=rng.randint(5, 15) if plan.at_counter else rng.randint(60, 20 * 60))
        if plan.requested_at + wait > now:
            return done
        done.decided_at, done.decided_by = plan.requested_at + wait, _approver(world, value)
        if plan.fate == "rejected":
            done.decision_reason, done.status = rng.choice(REJECTIONS), ReturnStatus.REJECTED
            return done
        done.decision_reason = "Within the approval limit"
    else:
        done.decided_at, done.decision_reason = plan.requested_at, "Approved by the return policy"
    done.status = ReturnStatus.APPROVED
    if plan.fate == "awaiting_receipt":
        return done
    if plan.at_counter:
        received_at = done.decided_at + timedelta(minutes=rng.randint(1, 5))
        receiver = plan.requested_by
    else:
        received_at = story.at(done.decided_at, rng.randint(2, 6), 8, 17)
        receiver = world.associate_for(rng, plan.receiver.code, "returns_inspection")
    if plan.fate == "cancelled":
        cancelled_at = done.decided_at + (received_at - done.decided_at) / 2
        if cancelled_at <= now:
            done.cancelled_at, done.status = cancelled_at, ReturnStatus.CANCELLED
        return done
    if received_at > now:
        return done
    done.received_at, done.receiver, done.status = received_at, receiver, ReturnStatus.RECEIVED
    inspected_at = received_at + (timedelta(minutes=3) if plan.at_counter else timedelta(hours=rng.randint(3, 40)))
    if inspected_at > now:
        return done
    done.inspected_at, done.status = inspected_at, ReturnStatus.INSPECTED
    resolved_at = inspected_at + (timedelta(minutes=2) if plan.at_counter else timedelta(hours=rng.randint(1, 24)))
    if resolved_at <= now:
        done.resolved_at, done.status = resolved_at, ReturnStatus.RESOLVED
    return done


def _tell(story: Story, ctx: Context, plan: Plan) -> ReturnRequest:
    """The request, its line and whatever followed by now: rows as the services leave them and
    the touchpoint each step writes, linked to the return."""
    order, line = plan.order, plan.line
    value = _value(line, plan.quantity)
    flags = []
    if value > ctx.terms.auto_approve_limit:
        flags.append(str(ReturnFlag.ABOVE_AUTO_APPROVAL_LIMIT))
    if _high_return_rate(story, ctx):
        flags.append(str(ReturnFlag.HIGH_RETURN_RATE))
    if plan.fate == "rejected" and not flags:
        plan.fate = "through"  # the rules approved it: nobody was there to refuse it
    done = _timeline(story, plan, value, flags)
    arrived = done.received_at is not None
    request = ReturnRequest(
        order=order,
        customer=story.customer,
        channel=plan.channel,
        status=done.status,
        method=plan.method,
        drop_off_location=plan.drop_off,
        # the code is made at approval (`return_approve`): none for a request waiting or refused
        drop_off_code=secret_code()
        if plan.method == ReturnMethod.PUDO_DROP_OFF
        and done.status not in (ReturnStatus.REQUESTED, ReturnStatus.REJECTED)
        else None,
        resolution=plan.resolution,
        currency=order.currency,
        value=value,
        flags=flags,
        requested_by=plan.requested_by,
        created_at=plan.requested_at,
        decided_at=done.decided_at,
        decided_by=done.decided_by,
        decision_reason=done.decision_reason,
        received_at=done.received_at,
        received_by=done.receiver,
        received_location=plan.receiver if arrived else None,
        inspected_at=done.inspected_at,
        resolved_at=done.resolved_at,
        resolved_by=done.receiver if done.resolved_at else None,
        refunded_amount=value if done.resolved_at else None,
    )
    return_line = ReturnLine(
        return_request=request,
        order_line=line,
        product=line.product,
        quantity=plan.quantity,
        reason=plan.reason,
        reason_detail=plan.said,
        value=value,
        quantity_received=plan.quantity if arrived else None,
    )
    ctx.requests.append(request)
    ctx.lines.append(return_line)
    ctx.sales.returned.add(id(line))
    ctx.returns_of[id(story.customer)].append(return_line)
    _touchpoints(story, ctx, plan, request, done, return_line)
    return request


def _touchpoints(story: Story, ctx: Context, plan: Plan, request: ReturnRequest, done: Timeline, line) -> None:
    number, order = request.number, plan.order
    links = {"order_number": order.number, "product": plan.line.product, "subject": request}
    what = f"{plan.quantity} × {plan.line.product.name}" if plan.quantity > 1 else plan.line.product.name
    story.add(
        TouchpointKind.RETURN,
        plan.channel,
        plan.requested_at,
        f"Return {number} requested: {what} ({plan.said}), {eur(request.value)}",
        associate=plan.requested_by,
        location=plan.drop_off,
        **links,
    )
    if done.status == ReturnStatus.REJECTED:
        story.add(
            TouchpointKind.RETURN,
            plan.channel,
            done.decided_at,
            f"Return {number} rejected: {done.decision_reason}",
            associate=done.decided_by,
            **links,
        )
        story.notify(done.decided_at, f"Your return {number} was not accepted: {done.decision_reason}", **links)
        return
    if done.decided_at is None:
        return
    story.add(
        TouchpointKind.RETURN,
        plan.channel,
        done.decided_at,
        f"Return {number} approved: {ReturnMethod(plan.method).label.lower()}",
        associate=done.decided_by,
        location=plan.drop_off,
        **links,
    )
    if not plan.at_counter:
        where = f"drop it off at {plan.drop_off.name}" if plan.drop_off else "send it with the carrier's return label"
        code = " with the QR code in the app" if request.drop_off_code else ""
        story.notify(done.decided_at + timedelta(minutes=1), f"Return {number} approved: {where}{code}", **links)
    if done.cancelled_at is not None:
        story.add(
            TouchpointKind.RETURN,
            plan.channel,
            done.cancelled_at,
            f"Return {number} cancelled: the customer decided to keep it",
            **links,
        )
        return
    if done.received_at is None:
        return
    at = {"associate": done.receiver, "location": plan.receiver}
    story.add(
        TouchpointKind.RETURN,
        Channel.STORE,
        done.received_at,
        f"Return {number} received at {plan.receiver.name}: {_items(plan.quantity)}",
        **at,
        **links,
    )
    if done.inspected_at is None:
        return
    recovered = _inspect(story.rng, ctx, line, plan, done.receiver, done.inspected_at)
    story.add(
        TouchpointKind.RETURN,
        plan.channel,
        done.inspected_at,
        f"Return {number} inspected: {_items(plan.quantity)}, {eur(recovered)} recovered",
        **at,
        **links,
    )
    if done.resolved_at is not None:
        _resolve(story, ctx, request, plan, done.receiver, links)


def _items(count: int) -> str:
    return f"{count} item{'s' if count != 1 else ''}"


def _high_return_rate(story: Story, ctx: Context) -> bool:
    """The policy's look at the customer's history: units they sent back of their own choice
    (faults of the retailer aside) over units received, once enough have arrived (default policy:
    above 30% of at least 5 units)."""
    sales = ctx.sales
    received = sum(
        _units_delivered(line)
        for order in sales.orders[id(story.customer)]
        for line in sales.lines[id(order)]
        if id(line) in sales.arrived
    )
    if received < 5:
        return False
    returned = sum(
        line.quantity
        for line in ctx.returns_of[id(story.customer)]
        if line.reason not in RETAILER_FAULT_REASONS
        and line.return_request.status not in (ReturnStatus.REJECTED, ReturnStatus.CANCELLED)
    )
    return returned * 100 > 30 * received


def _inspect(rng, ctx: Context, line: ReturnLine, plan: Plan, inspector, at: datetime) -> Decimal:
    """Faulty goods go back to the vendor or to recycling; the rest is restocked or sold as open box."""
    product = line.order_line.product
    if line.reason in (ReturnReason.DAMAGED, ReturnReason.DEFECTIVE):
        if rng.random() < 0.7:
            grade, disposition = ItemGrade.DAMAGED, Disposition.RETURN_TO_VENDOR
            recovered = quantize(product.resale_value * line.quantity, product.currency)
        else:
            grade, disposition, recovered = ItemGrade.UNUSABLE, Disposition.RECYCLE, Decimal("0.00")
    elif rng.random() < 0.6:
        grade, disposition, recovered = ItemGrade.NEW, Disposition.RESTOCK, line.value
    else:
        grade, disposition = ItemGrade.LIKE_NEW, Disposition.OPEN_BOX
        recovered = quantize(product.resale_value * line.quantity, product.currency)
    ctx.inspections.append(
        InspectedItem(
            return_line=line,
            quantity=line.quantity,
            grade=grade,
            disposition=disposition,
            recovered_value=recovered,
            location=plan.receiver,
            inspected_by=inspector,
            inspected_at=at,
        )
    )
    return recovered


def _resolve(story: Story, ctx: Context, request: ReturnRequest, plan: Plan, actor, links: dict) -> None:
    """The money back in the order's ledger: a refund (pending until the processor confirms it)
    or store credit (settled; the voucher holds it)."""
    order, value, at = request.order, request.refunded_amount, request.resolved_at
    note = f"Return {request.number}"
    if request.resolution == Resolution.STORE_CREDIT:
        ctx.charges.append(_charge(order, ChargeKind.STORE_CREDIT, -value, at, settled_at=at, note=note, actor=actor))
        amount = quantize(value * (100 + ctx.terms.bonus_percent) / 100, request.currency)
        voucher = _voucher(
            ctx, story, amount, VoucherSource.RETURN, at, actor=actor, order=order, note=note, return_request=request
        )
        story.add(
            TouchpointKind.RETURN,
            plan.channel,
            at,
            f"Return {request.number} credited: voucher of {eur(amount)}",
            associate=actor,
            **links,
        )
        story.add(
            TouchpointKind.CREDIT_VOUCHER,
            plan.channel,
            at,
            f"Credit voucher of {eur(amount)} issued (store credit for return {request.number}), "
            f"valid until {voucher.expires_at.astimezone(story.zone):%d %B %Y}",
            associate=actor,
            order_number=order.number,
            subject=voucher,
        )
        return
    settles = at + timedelta(days=REFUND_SETTLES_DAYS)
    settled_at = settles if settles <= ctx.world.now else None
    ctx.charges.append(_charge(order, ChargeKind.REFUND, -value, at, settled_at=settled_at, note=note, actor=actor))
    story.add(
        TouchpointKind.RETURN,
        plan.channel,
        at,
        f"Return {request.number} refunded: {eur(value)} to the original payment method",
        associate=actor,
        **links,
    )
    story.notify(
        at + timedelta(minutes=2),
        f"Your refund of {eur(value)} is on its way; expect it within {REFUND_SETTLES_DAYS} working days",
        order_number=order.number,
    )


def _charge(order: Order, kind: str, amount: Decimal, at: datetime, *, settled_at, note="", actor=None, **fields):
    return Charge(
        order=order,
        kind=kind,
        status=ChargeStatus.SETTLED if settled_at else ChargeStatus.PENDING,
        amount=amount,
        currency=order.currency,
        note=note,
        actor=actor,
        created_at=at,
        settled_at=settled_at,
        **fields,
    )


# --- credit vouchers ---------------------------------------------------------------------------


def _voucher(
    ctx: Context,
    story: Story,
    amount: Decimal,
    source: str,
    at: datetime,
    *,
    actor,
    order,
    note,
    return_request=None,
    spent: bool = False,
) -> Voucher:
    """A voucher and its ISSUE row. `spent`: redeemed in full later (the caller appends the
    REDEEM row), so it is written exhausted; the state is set once, when the row is built."""
    voucher = Voucher(
        code=secret_code(),
        customer=story.customer,
        currency="EUR",
        initial_amount=amount,
        balance=Decimal("0.00") if spent else amount,
        status=VoucherStatus.EXHAUSTED if spent else VoucherStatus.ACTIVE,
        source=source,
        return_request=return_request,
        order=order,
        note=note[:300],
        issued_by=actor,
        created_at=at,
        expires_at=at.astimezone(UTC) + timedelta(days=ctx.terms.voucher_valid_days),  # a span, not a clock
    )
    ctx.vouchers.append(voucher)
    ctx.transactions.append(
        VoucherTransaction(
            voucher=voucher,
            kind=VoucherTransactionKind.ISSUE,
            amount=amount,
            balance_after=amount,
            order=order,
            actor=actor,
            note=voucher.note,
            created_at=at,
        )
    )
    return voucher


def _goodwill_vouchers(story: Story, ctx: Context, *, spent: str = "") -> list[Voucher]:
    """The goodwill vouchers the orders step's complaints tell of ("Goodwill voucher of €25.00
    issued …"), as rows: issued by the touchpoint's agent or manager, at its time, for its order;
    the touchpoint links to its voucher. `spent`: the order number whose voucher is spent in full."""
    vouchers = []
    for touchpoint in list(story.touchpoints):
        if touchpoint.kind != TouchpointKind.CREDIT_VOUCHER:
            continue
        found = GOODWILL_ISSUED.match(touchpoint.summary)
        if found is None:
            continue
        amount = Decimal(found.group(1).replace(",", ""))
        voucher = _voucher(
            ctx,
            story,
            amount,
            VoucherSource.GOODWILL,
            touchpoint.occurred_at,
            actor=ctx.users.get(touchpoint.associate_id),
            order=ctx.sales.by_number.get(touchpoint.order_number),
            note=touchpoint.summary,
            spent=bool(spent) and touchpoint.order_number == spent,
        )
        story.subjects.append((touchpoint, voucher))
        vouchers.append(voucher)
    return vouchers


# --- the app's demo customer --------------------------------------------------------------------


def _app_customer(story: Story, ctx: Context) -> None:
    """The €50 goodwill voucher for the missing sofa module pays part of the oven; the coat that
    was too large goes back over the counter in Amsterdam three days ago, its refund still pending."""
    world = story.world
    orders = ctx.sales.orders[id(story.customer)]
    line_of = {line.product.sku: line for order in orders for line in ctx.sales.lines[id(order)]}
    sofa, oven, coat = line_of["RV-SOF-1002"].order, line_of["RV-APP-5002"].order, line_of["RV-WOM-8001"]
    (goodwill,) = _goodwill_vouchers(story, ctx, spent=sofa.number)
    _redeem(story, ctx, goodwill, oven, oven.placed_at + timedelta(minutes=1))

    day = world.now.astimezone(story.zone).date() - timedelta(days=3)
    store = world.locations["ST-AMS"]
    plan = Plan(
        order=coat.order,
        line=coat,
        quantity=coat.quantity,
        said="too large",
        reason=ReturnReason.DOESNT_FIT,
        requested_at=min(datetime.combine(day, time(12, 45), story.zone), world.now),
        channel=Channel.STORE,
        method=ReturnMethod.STORE_DROP_OFF,
        drop_off=store,
        receiver=store,
        requested_by=world.users[DEMO_ASSOCIATE],
    )
    _tell(story, ctx, plan)


def _redeem(story: Story, ctx: Context, voucher: Voucher, order: Order, at: datetime) -> None:
    """The whole voucher pays part of `order` at checkout, as `voucher_redeem` with an order does:
    that much of the hold is released and a settled voucher redemption takes its place, so the
    card is captured for less when the goods ship."""
    amount = voucher.initial_amount
    redemption = VoucherTransaction(
        voucher=voucher,
        kind=VoucherTransactionKind.REDEEM,
        amount=-amount,
        balance_after=Decimal("0.00"),
        order=order,
        created_at=at,
    )
    ctx.transactions.append(redemption)
    for charge in ctx.sales.charges[id(order)]:  # the capture at shipping takes what is left
        if charge.kind == ChargeKind.CAPTURE:
            charge.amount -= amount
        elif charge.kind == ChargeKind.AUTHORISATION and charge.amount < 0:
            charge.amount += amount
    paid = _charge(order, ChargeKind.VOUCHER_REDEMPTION, amount, at, settled_at=at)
    ctx.charges.append(_charge(order, ChargeKind.AUTHORISATION, -amount, at, settled_at=None, note="paid by voucher"))
    ctx.charges.append(paid)
    ctx.batch.after_write(lambda: Charge.objects.filter(pk=paid.pk).update(reference=transaction_reference(redemption)))
    story.add(
        TouchpointKind.CREDIT_VOUCHER,
        Channel.APP,
        at,
        f"Goodwill voucher of {eur(amount)} redeemed on order {order.number}; {eur(Decimal('0'))} left",
        order_number=order.number,
        subject=voucher,
    )
