"""Credit vouchers: store credit with a secret code, spent at tills and on orders, kept by a ledger.

Every change of a balance is an appended `VoucherTransaction`, signed from the voucher's side
(+ issue and reversed redemptions, - redemptions, expiry and void), with the balance after it.
The voucher's `balance` mirrors the sum of its ledger and changes only under the voucher's row
lock, in the same transaction as the row that explains it; the database refuses a negative
balance or a balance above what was issued.

Locks, always in this order: the voucher row, then the order (`order_lock`) it pays for.
"""

import logging
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db.transaction import atomic
from django.utils import timezone

from core.choices import Channel, Role, TouchpointKind
from core.codes import secret_code, secret_code_formatted
from core.errors import Conflict, DomainError, RuleViolation
from core.money import quantize
from core.services.notifications import notify
from core.services.timeline import touchpoint_record
from core.sweeps import in_batches, next_batch
from core.timezones import zone_or_utc
from core.workflow import allowed_transitions, transition_apply
from orders.services.charges import charges_pay_by_voucher, charges_unpay_voucher, check_approval_limit
from orders.services.orders import order_lock
from returns.choices import VoucherSource, VoucherStatus, VoucherTransactionKind
from returns.models import ReturnPolicy, Voucher, VoucherTransaction

logger = logging.getLogger("aftercare.vouchers")

DEFAULT_VALID_DAYS = 365
SWEEP_BATCH = 100
MAX_AMOUNT = Decimal("9999999999.99")  # what a 12-digit, 2-decimal column holds
NOTE_MAX = 300


# --- helpers ----------------------------------------------------------------------------------


def _amount(amount, currency: str) -> Decimal:
    """`amount` rounded to the currency's minor unit; a positive figure the ledger can hold."""
    try:
        value = quantize(amount, currency)
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise RuleViolation("The amount is not a number.", code="amount") from exc
    if not value.is_finite() or value <= 0:
        raise RuleViolation("The amount must be more than zero.", code="amount")
    if value > MAX_AMOUNT:
        raise RuleViolation(f"The amount must be at most {MAX_AMOUNT}.", code="amount")
    return value


def _lock(voucher_id: int) -> Voucher:
    return Voucher.objects.select_for_update(of=("self",)).select_related("customer").get(pk=voucher_id)


def _append(voucher: Voucher, kind: str, amount: Decimal, *, actor, **fields) -> VoucherTransaction:
    """Append one ledger row and move the (locked) voucher's balance with it."""
    balance = voucher.balance + amount
    if balance < 0:  # callers check first; this is the invariant, not the rule
        raise RuleViolation(f"The balance is {voucher.balance} {voucher.currency}.", code="insufficient_balance")
    row = VoucherTransaction.objects.create(
        voucher=voucher,
        kind=kind,
        amount=amount,
        balance_after=balance,
        actor=actor if getattr(actor, "pk", None) else None,
        **fields,
    )
    voucher.balance = balance
    voucher.save(update_fields=["balance"])
    return row


def _transition(voucher: Voucher, name: str, *, actor, reason: str) -> Voucher:
    """`transition_apply` (history written), keeping the locked row's customer for what follows."""
    moved = transition_apply(voucher, name, actor=actor, reason=reason)
    moved.customer = voucher.customer
    return moved


def _channel(actor) -> str:
    if actor is not None and actor.has_role(Role.CUSTOMER_SERVICE):
        return Channel.PHONE
    return Channel.STORE


def _touchpoint(voucher: Voucher, actor, summary: str, *, order_number: str = "", channel: str | None = None) -> None:
    is_staff = actor is not None and actor.has_role(*Role.values)
    profile = getattr(actor, "associate", None) if is_staff else None
    touchpoint_record(
        customer=voucher.customer,
        kind=TouchpointKind.CREDIT_VOUCHER,
        channel=channel or _channel(actor),
        summary=summary,
        associate=actor if is_staff else None,
        location=getattr(profile, "home_location", None),
        order_number=order_number,
        subject=voucher,
    )


def local_expiry(voucher: Voucher) -> str:
    """The expiry as the customer's clock shows it."""
    zone = zone_or_utc(voucher.customer.time_zone)
    return f"{timezone.localtime(voucher.expires_at, zone):%d %B %Y, %H:%M} ({zone.key})"


def message_context(voucher: Voucher) -> dict:
    return {
        "code": voucher.code,
        "amount": voucher.initial_amount,
        "balance": voucher.balance,
        "currency": voucher.currency,
        "expires": local_expiry(voucher),
        "source": voucher.source,
        "source_label": voucher.get_source_display(),
        "note": voucher.note,
    }


def _tell(voucher: Voucher, event: str, *, order_number: str = "", **context) -> None:
    """The customer's message; the code is a secret that staff views of the outbox mask."""
    notify(
        customer=voucher.customer,
        event=event,
        dedupe_key=f"{event.replace('_', '-')}:{voucher.pk}",
        context={**message_context(voucher), "order_number": order_number, **context},
        secrets=[voucher.code],
        order_number=order_number,
    )


def voucher_by_code(code: str, queryset=None) -> Voucher | None:
    """The voucher a typed code names (case, dashes and spaces do not matter), or None."""
    formatted = secret_code_formatted(code)
    if formatted is None:
        return None
    return (queryset if queryset is not None else Voucher.objects.all()).filter(code=formatted).first()


def _not_active(voucher: Voucher, doing: str) -> Conflict:
    allowed = allowed_transitions(voucher)
    return Conflict(
        f"Cannot {doing} a voucher that is {voucher.status}; allowed: {', '.join(allowed) or 'none'}.",
        code="voucher_not_active",
        state=voucher.status,
        allowed=allowed,
    )


# --- issue ------------------------------------------------------------------------------------


MAX_VALIDITY = timedelta(days=10 * 365)  # beyond that, dates stop being promises (and overflow)


def _default_expiry(currency: str, now):
    days = ReturnPolicy.objects.filter(currency=currency).values_list("voucher_valid_days", flat=True).first()
    return now + timedelta(days=days or DEFAULT_VALID_DAYS)


def voucher_issue(
    *,
    actor,
    customer,
    amount,
    currency: str,
    source: str,
    return_request=None,
    order=None,
    note: str = "",
    expires_at=None,
    check_limit: bool = True,
) -> Voucher:
    """Give `customer` store credit of `amount`: a new code, an ISSUE row, the customer told.

    Valid for the `ReturnPolicy`'s `voucher_valid_days` of the currency (365 without one) unless
    `expires_at` says otherwise. Staff issue up to their approval limit (above it: 422, ask a
    manager); the returns workflow passes `check_limit=False`, its approval having capped it.
    `order`: what it makes up for (a delivery problem); `return_request`: the return it credits."""
    currency = str(currency or "").upper()
    if len(currency) != 3 or not currency.isalpha():
        raise RuleViolation("The currency is a three-letter ISO 4217 code.", code="currency")
    if source not in VoucherSource.values:
        raise RuleViolation(f"A voucher is issued for one of: {', '.join(VoucherSource.values)}.", code="source")
    amount = _amount(amount, currency)
    for thing, name in ((order, "order"), (return_request, "return")):
        if thing is None:
            continue
        if thing.customer_id != customer.pk:
            raise RuleViolation(f"That {name} is another customer's.", code=f"{name}_not_customers")
        if thing.currency != currency:
            raise RuleViolation(
                f"The {name} is in {thing.currency}, the voucher in {currency}.", code="currency_mismatch"
            )
    now = timezone.now()
    expires_at = expires_at or _default_expiry(currency, now)
    if expires_at <= now:
        raise RuleViolation("A voucher expires in the future.", code="expires_at")
    if expires_at > now + MAX_VALIDITY:
        raise RuleViolation(f"A voucher is valid for at most {MAX_VALIDITY.days // 365} years.", code="expires_at")
    if actor is not None and check_limit:
        check_approval_limit(actor, amount, currency)
    with atomic():
        voucher = Voucher.objects.create(
            code=secret_code(),
            customer=customer,
            currency=currency,
            initial_amount=amount,
            balance=Decimal("0"),
            source=source,
            return_request=return_request,
            order=order,
            note=(note or "")[:NOTE_MAX],
            issued_by=actor if getattr(actor, "pk", None) else None,
            created_at=now,
            expires_at=expires_at,
        )
        # the balance is the ledger's: it starts at nothing and the ISSUE row brings the amount
        _append(voucher, VoucherTransactionKind.ISSUE, amount, actor=actor, note=voucher.note, order=order)
        order_number = order.number if order is not None else ""
        if not order_number and return_request is not None:
            order_number = return_request.order.number
        _touchpoint(
            voucher,
            actor,
            f"Credit voucher {voucher.pk} issued: {amount} {currency} ({voucher.get_source_display().lower()}), "
            f"valid until {local_expiry(voucher)}",
            order_number=order_number,
            channel=return_request.channel if return_request is not None and actor is None else None,
        )
        _tell(voucher, "voucher_issued", order_number=order_number)
    return voucher


# --- redeem and reverse -----------------------------------------------------------------------


def voucher_redeem(*, actor, voucher: Voucher, amount, order=None, reference: str = "") -> VoucherTransaction:
    """Spend `amount` of the voucher (all of it or part: the rest stays usable). With `order`, it
    pays that part of the order: the order's pending hold shrinks by `amount` and a settled
    voucher redemption takes its place. An exhausted, expired or void voucher is a 409; more than
    the balance a 422 that says the balance. Safe under concurrency: the voucher row is locked
    before the balance is read."""
    reference = (reference or "").strip()[:64]
    with atomic():
        voucher = _lock(voucher.pk)
        if voucher.status != VoucherStatus.ACTIVE:
            raise _not_active(voucher, "redeem")
        now = timezone.now()
        if voucher.expires_at <= now:
            raise Conflict(
                f"This voucher expired on {local_expiry(voucher)}.", code="voucher_expired", state="expired", allowed=[]
            )
        amount = _amount(amount, voucher.currency)
        if amount > voucher.balance:
            raise RuleViolation(
                f"The voucher's balance is {voucher.balance} {voucher.currency}; {amount} cannot be redeemed.",
                code="insufficient_balance",
                balance=str(voucher.balance),
                currency=voucher.currency,
            )
        if order is not None:
            order = order_lock(order.pk)
            if order.currency != voucher.currency:
                raise RuleViolation(
                    f"Order {order.number} is in {order.currency}, the voucher in {voucher.currency}.",
                    code="currency_mismatch",
                )
            if order.customer_id != voucher.customer_id:
                raise RuleViolation(
                    f"This voucher belongs to another customer than order {order.number}; "
                    "a voucher pays for its owner's orders only.",
                    code="voucher_not_customers",
                )
        row = _append(voucher, VoucherTransactionKind.REDEEM, -amount, actor=actor, order=order, reference=reference)
        if order is not None:
            charges_pay_by_voucher(order=order, amount=amount, reference=transaction_reference(row), actor=actor)
        if voucher.balance == 0:
            voucher = _transition(voucher, "exhaust", actor=actor, reason="Balance spent")
        where = f" on order {order.number}" if order is not None else (f" ({reference})" if reference else "")
        _touchpoint(
            voucher,
            actor,
            f"Paid {amount} {voucher.currency} with credit voucher {voucher.pk}{where}; "
            f"{row.balance_after} {voucher.currency} left",
            order_number=order.number if order is not None else "",
        )
    return row


def transaction_reference(row: VoucherTransaction) -> str:
    """How the order's charges ledger names a voucher transaction."""
    return f"voucher-transaction:{row.pk}"


def voucher_reverse(*, actor, transaction: VoucherTransaction, reason: str) -> VoucherTransaction:
    """Undo one redemption, once: its amount goes back on the voucher (an exhausted voucher is
    active again) and, when it paid an order, the order's hold is given back in the charges
    ledger. Refused for what is not a redemption, one already reversed, and a voucher no longer
    spendable (expired or void: issue a new one instead)."""
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation("Say why the redemption is reversed.", code="reason_required")
    redemption = transaction
    with atomic():
        voucher = _lock(redemption.voucher_id)
        redemption = VoucherTransaction.objects.select_related("order").get(pk=redemption.pk)
        if redemption.kind != VoucherTransactionKind.REDEEM:
            raise RuleViolation("Only a redemption can be reversed.", code="not_a_redemption")
        if VoucherTransaction.objects.filter(reverses=redemption).exists():
            raise Conflict("This redemption was reversed already.", code="already_reversed")
        if voucher.status not in (VoucherStatus.ACTIVE, VoucherStatus.EXHAUSTED):
            raise _not_active(voucher, "reverse a redemption of")
        amount = -redemption.amount
        order = redemption.order
        if order is not None:
            order = order_lock(order.pk)
            charges_unpay_voucher(
                order=order, amount=amount, reference=transaction_reference(redemption), actor=actor, note=reason
            )
        row = _append(
            voucher,
            VoucherTransactionKind.REVERSE,
            amount,
            actor=actor,
            order=order,
            reference=redemption.reference,
            reverses=redemption,
            note=reason[:NOTE_MAX],
        )
        if voucher.status == VoucherStatus.EXHAUSTED:
            voucher = _transition(voucher, "reactivate", actor=actor, reason=reason)
        _touchpoint(
            voucher,
            actor,
            f"Redemption of {amount} {voucher.currency} on credit voucher {voucher.pk} reversed: {reason}",
            order_number=order.number if order is not None else "",
        )
    return row


# --- void -------------------------------------------------------------------------------------


def voucher_void(*, actor, voucher: Voucher, reason: str) -> Voucher:
    """Cancel a voucher (issued by mistake, fraud): what is left is taken off with a VOID row."""
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation("Say why the voucher is voided.", code="reason_required")
    with atomic():
        voucher = _lock(voucher.pk)
        left = voucher.balance
        voucher = _transition(voucher, "void", actor=actor, reason=reason)
        if left > 0:
            _append(voucher, VoucherTransactionKind.VOID, -left, actor=actor, note=reason[:NOTE_MAX])
        _touchpoint(voucher, actor, f"Credit voucher {voucher.pk} voided ({left} {voucher.currency} left): {reason}")
    return voucher


# --- the sweep: reminders and expiry ----------------------------------------------------------


def vouchers_sweep(*, now=None) -> dict:
    """Tell customers once that a voucher will expire (`VOUCHER_EXPIRY_REMINDER_DAYS` before), and
    expire the ones past their date: what was left is taken off with an EXPIRE row and the
    customer is told. Safe to run twice and beside another sweep (rows are claimed with SKIP
    LOCKED, in batches, along the voucher_active_expiry index). Returns the counts."""
    now = now or timezone.now()
    expired, failed = _expire_due(now)
    reminded = _remind_due(now)
    return {"reminded": reminded, "expired": expired, "failed": failed}


def claimable(queryset, after=None):
    """The next batch of active vouchers of `queryset` in expiry order after `after` (see
    `core.sweeps.next_batch`), along the voucher_active_expiry index."""
    active = queryset.filter(status=VoucherStatus.ACTIVE).select_related("customer")
    return next_batch(active, key="expires_at", size=SWEEP_BATCH, after=after)


def _in_batches(queryset, handle) -> None:
    in_batches(lambda after: claimable(queryset, after), handle, key="expires_at")


def _remind_due(now) -> int:
    reminded = 0

    def remind(batch):
        nonlocal reminded
        for voucher in batch:
            voucher.reminded_at = now
            voucher.save(update_fields=["reminded_at"])
            _tell(voucher, "voucher_expiring")
        reminded += len(batch)

    before = timedelta(days=settings.VOUCHER_EXPIRY_REMINDER_DAYS)
    due = Voucher.objects.filter(reminded_at__isnull=True, expires_at__gt=now, expires_at__lte=now + before)
    _in_batches(due, remind)
    return reminded


def _expire_due(now) -> tuple[int, int]:
    expired = failed = 0

    def expire(batch):
        nonlocal expired, failed
        for voucher in batch:
            try:
                with atomic():  # one voucher that cannot be expired does not stop the rest
                    _expire(voucher)
                expired += 1
            except DomainError:
                logger.exception("voucher %s could not be expired; left active", voucher.pk)
                failed += 1

    _in_batches(Voucher.objects.filter(expires_at__lte=now), expire)
    return expired, failed


def _expire(voucher: Voucher) -> None:
    left = voucher.balance
    voucher = _transition(voucher, "expire", actor=None, reason="Reached its expiry date")
    if left > 0:
        _append(voucher, VoucherTransactionKind.EXPIRE, -left, actor=None)
    _touchpoint(voucher, None, f"Credit voucher {voucher.pk} expired with {left} {voucher.currency} unspent")
    _tell(voucher, "voucher_expired", lost=left)
