"""Credit vouchers through their services: issue, redeem (on its own or paying part of an order),
reverse a redemption, void, and the sweep that reminds and expires. Every refusal says why, every
illegal transition is a 409 naming the allowed ones, and the balance is always the sum of the
ledger and never negative."""

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone

from core.choices import TouchpointKind
from core.codes import SECRET_CODE_BITS, secret_code_formatted
from core.errors import Conflict, RuleViolation, TransitionNotAllowed
from core.models import Notification, StateTransition, Touchpoint
from core.money import quantize
from orders.choices import ChargeKind, ChargeStatus
from orders.models import Charge
from orders.services.charges import ledger_of, units_value
from orders.services.orders import order_lines_cancel
from returns.choices import VoucherSource, VoucherStatus, VoucherTransactionKind
from returns.models import ReturnPolicy, Voucher, VoucherTransaction
from returns.services.vouchers import (
    voucher_by_code,
    voucher_issue,
    voucher_redeem,
    voucher_reverse,
    voucher_void,
    vouchers_sweep,
)
from returns.tasks import voucher_sweep
from tests.factories import CustomerFactory, ProductFactory, make_order, make_voucher

pytestmark = pytest.mark.django_db

D = Decimal


def _reload(voucher) -> Voucher:
    return Voucher.objects.get(pk=voucher.pk)


def assert_ledger_holds(voucher) -> None:
    """balance == sum of the ledger, each row's balance_after is the running sum, never below zero."""
    voucher = _reload(voucher)
    running = D("0")
    for row in voucher.transactions.order_by("id"):
        running += row.amount
        assert row.balance_after == running, (row.kind, row.amount, row.balance_after, running)
        assert running >= 0
    assert voucher.balance == running
    total = voucher.transactions.aggregate(total=Sum("amount"))["total"]  # SQLite sums in floating point
    assert voucher.balance == quantize(total, voucher.currency)
    assert 0 <= voucher.balance <= voucher.initial_amount


def _order_reconciles(order) -> None:
    """The charges ledger's identity (tests/orders/test_ledger.py) after voucher payments."""
    order.refresh_from_db()
    ledger = ledger_of(order)
    cancelled = sum((units_value(line, line.quantity_cancelled, order.currency) for line in order.lines.all()), D("0"))
    assert ledger.past + ledger.pending == order.total - cancelled - ledger.credits
    assert ledger.hold >= 0 and ledger.paid >= 0


@pytest.fixture
def clerk(associate):
    return associate  # approval limit 100.00 EUR


# --- issue ------------------------------------------------------------------------------------


def test_issue_gives_a_secret_code_an_issue_row_and_tells_the_customer(clerk):
    customer = CustomerFactory()

    voucher = voucher_issue(
        actor=clerk, customer=customer, amount=D("25.5"), currency="EUR", source=VoucherSource.GOODWILL, note="Late"
    )

    assert SECRET_CODE_BITS >= 64
    assert secret_code_formatted(voucher.code) == voucher.code and len(voucher.code) == 15
    assert (voucher.status, voucher.balance, voucher.initial_amount) == ("active", D("25.50"), D("25.50"))
    assert voucher.issued_by == clerk
    row = voucher.transactions.get()
    assert (row.kind, row.amount, row.balance_after, row.actor) == ("issue", D("25.50"), D("25.50"), clerk)
    assert_ledger_holds(voucher)
    touchpoint = Touchpoint.objects.get(customer=customer, kind=TouchpointKind.CREDIT_VOUCHER)
    assert "25.50 EUR" in touchpoint.summary and voucher.code not in touchpoint.summary
    assert touchpoint.associate == clerk
    message = Notification.objects.get(customer=customer, event="voucher_issued")
    assert voucher.code in message.body and "25.50 EUR" in message.body
    assert message.secrets == [voucher.code]
    assert voucher.code not in message.masked(message.body)  # what staff see of the outbox


def test_codes_are_unique_and_unguessable():
    codes = {make_voucher().code for _ in range(20)}
    assert len(codes) == 20


def test_expiry_comes_from_the_policy_of_the_currency_or_a_year(settings):
    ReturnPolicy.objects.filter(currency="EUR").update(voucher_valid_days=30)
    before = timezone.now()

    eur = make_voucher(currency="EUR")
    usd = make_voucher(currency="USD")
    chosen = make_voucher(expires_at=before + timedelta(days=3))

    assert before + timedelta(days=30) <= eur.expires_at <= timezone.now() + timedelta(days=30)
    assert before + timedelta(days=365) <= usd.expires_at <= timezone.now() + timedelta(days=365)
    assert chosen.expires_at == before + timedelta(days=3)


def test_the_returns_workflow_issues_without_the_limit_check(clerk):
    voucher = make_voucher(actor=clerk, amount="500.00", source=VoucherSource.RETURN, check_limit=False)
    assert voucher.balance == D("500.00")


def test_an_associate_above_their_limit_is_told_to_ask_a_manager(clerk, manager):
    customer = CustomerFactory()
    manager.associate.approval_limit = D("1000.00")
    manager.associate.save(update_fields=["approval_limit"])

    with pytest.raises(RuleViolation) as refused:
        voucher_issue(actor=clerk, customer=customer, amount=D("100.01"), currency="EUR", source="goodwill")

    assert refused.value.code == "above_approval_limit" and "ask a manager" in refused.value.detail
    assert not Voucher.objects.exists() and not Notification.objects.exists()
    assert voucher_issue(actor=manager, customer=customer, amount=D("100.01"), currency="EUR", source="goodwill")


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"amount": D("0")}, "amount"),
        ({"amount": D("-5")}, "amount"),
        ({"amount": D("0.004")}, "amount"),  # rounds to nothing
        ({"amount": D("1e12")}, "amount"),
        ({"amount": "lots"}, "amount"),
        ({"currency": "EURO"}, "currency"),
        ({"currency": ""}, "currency"),
        ({"source": "lottery"}, "source"),
        ({"expires_at": timezone.now() - timedelta(minutes=1)}, "expires_at"),
    ],
)
def test_issue_refuses_what_cannot_be_a_voucher(fields, code):
    values = {"customer": CustomerFactory(), "amount": D("10"), "currency": "EUR", "source": "goodwill", **fields}
    with pytest.raises(RuleViolation) as refused:
        voucher_issue(actor=None, **values)
    assert refused.value.code == code
    assert not Voucher.objects.exists()


def test_a_voucher_for_an_order_is_its_customers_in_its_currency():
    order = make_order()
    with pytest.raises(RuleViolation) as other:
        make_voucher(order=order)
    with pytest.raises(RuleViolation) as currency:
        make_voucher(customer=order.customer, currency="USD", order=order)
    assert (other.value.code, currency.value.code) == ("order_not_customers", "currency_mismatch")
    assert make_voucher(customer=order.customer, order=order).order == order


# --- redeem -----------------------------------------------------------------------------------


def test_partial_redemption_leaves_the_rest_usable(clerk):
    voucher = make_voucher(amount="50.00")

    first = voucher_redeem(actor=clerk, voucher=voucher, amount=D("20"), reference="till-3")
    second = voucher_redeem(actor=clerk, voucher=voucher, amount=D("12.34"))

    assert (first.kind, first.amount, first.balance_after, first.reference) == (
        "redeem",
        D("-20.00"),
        D("30.00"),
        "till-3",
    )
    assert second.balance_after == D("17.66")
    assert (_reload(voucher).status, _reload(voucher).balance) == ("active", D("17.66"))
    assert_ledger_holds(voucher)
    summaries = list(Touchpoint.objects.filter(kind="credit_voucher").values_list("summary", flat=True))
    assert any("Paid 20.00 EUR" in s and "30.00 EUR left" in s for s in summaries)


def test_spending_it_all_exhausts_the_voucher_with_its_history(clerk):
    voucher = make_voucher(amount="50.00")

    voucher_redeem(actor=clerk, voucher=voucher, amount=D("50"))

    assert _reload(voucher).status == VoucherStatus.EXHAUSTED
    history = StateTransition.objects.get(subject_id=voucher.pk, transition="exhaust")
    assert (history.from_state, history.to_state, history.actor) == ("active", "exhausted", clerk)
    assert_ledger_holds(voucher)


def test_more_than_the_balance_is_refused_with_the_balance(clerk):
    voucher = make_voucher(amount="50.00")
    voucher_redeem(actor=clerk, voucher=voucher, amount=D("30"))

    with pytest.raises(RuleViolation) as refused:
        voucher_redeem(actor=clerk, voucher=voucher, amount=D("20.01"))

    assert refused.value.code == "insufficient_balance"
    assert refused.value.extra["balance"] == "20.00"
    assert "20.00 EUR" in refused.value.detail
    assert _reload(voucher).balance == D("20.00")
    assert_ledger_holds(voucher)


@pytest.mark.parametrize("amount", [D("0"), D("-1"), D("0.001"), D("1e11"), "x"])
def test_a_redemption_is_a_positive_amount(amount, clerk):
    voucher = make_voucher()
    with pytest.raises(RuleViolation) as refused:
        voucher_redeem(actor=clerk, voucher=voucher, amount=amount)
    assert refused.value.code == "amount"
    assert voucher.transactions.count() == 1


@pytest.mark.parametrize(
    ("status", "allowed"),
    [("exhausted", ["reactivate", "void"]), ("expired", []), ("void", [])],
)
def test_only_an_active_voucher_can_be_redeemed(status, allowed, clerk):
    voucher = make_voucher()
    Voucher.objects.filter(pk=voucher.pk).update(status=status)

    with pytest.raises(Conflict) as refused:
        voucher_redeem(actor=clerk, voucher=voucher, amount=D("1"))

    assert refused.value.status == 409
    assert (refused.value.code, refused.value.extra["allowed"], refused.value.extra["state"]) == (
        "voucher_not_active",
        allowed,
        status,
    )
    assert "allowed: " in refused.value.detail
    assert voucher.transactions.count() == 1


def test_a_voucher_past_its_date_cannot_be_spent_before_the_sweep_runs(clerk):
    voucher = make_voucher()
    Voucher.objects.filter(pk=voucher.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    with pytest.raises(Conflict) as refused:
        voucher_redeem(actor=clerk, voucher=voucher, amount=D("1"))

    assert refused.value.code == "voucher_expired"


def _order_with_hold(customer, total="300.00"):
    return make_order(customer=customer, lines=[(ProductFactory(), 1, total)])  # all of it an authorisation hold


def test_paying_part_of_an_order_takes_it_from_the_hold(clerk):
    voucher = make_voucher(amount="50.00")
    order = _order_with_hold(voucher.customer)

    row = voucher_redeem(actor=clerk, voucher=voucher, amount=D("40"), order=order)

    assert row.order == order
    ledger = ledger_of(order)
    assert (ledger.hold, ledger.paid) == (D("260.00"), D("40.00"))
    paid = Charge.objects.get(order=order, kind=ChargeKind.VOUCHER_REDEMPTION)
    assert (paid.amount, paid.status, paid.reference) == (
        D("40.00"),
        ChargeStatus.SETTLED,
        f"voucher-transaction:{row.pk}",
    )
    release = Charge.objects.get(order=order, kind=ChargeKind.AUTHORISATION, amount=D("-40.00"))
    assert (release.status, release.note) == (ChargeStatus.PENDING, "paid by voucher")
    _order_reconciles(order)
    assert_ledger_holds(voucher)
    assert Touchpoint.objects.filter(kind="credit_voucher", order_number=order.number).exists()


def test_a_voucher_pays_only_its_owners_orders_in_its_currency(clerk):
    voucher = make_voucher(amount="50.00")
    theirs = _order_with_hold(CustomerFactory())
    dollars = make_order(customer=voucher.customer, currency="USD")

    with pytest.raises(RuleViolation) as other:
        voucher_redeem(actor=clerk, voucher=voucher, amount=D("10"), order=theirs)
    with pytest.raises(RuleViolation) as currency:
        voucher_redeem(actor=clerk, voucher=voucher, amount=D("10"), order=dollars)

    assert other.value.code == "voucher_not_customers" and theirs.number in other.value.detail
    assert currency.value.code == "currency_mismatch"
    assert _reload(voucher).balance == D("50.00")
    assert not Charge.objects.filter(kind=ChargeKind.VOUCHER_REDEMPTION).exists()


def test_a_voucher_cannot_pay_more_than_the_order_still_holds(clerk):
    voucher = make_voucher(amount="50.00")
    order = _order_with_hold(voucher.customer, total="30.00")
    paid = make_order(
        customer=voucher.customer, payments=[{"kind": "capture", "amount": D("300.00"), "reference": "till"}]
    )

    for target in (order, paid):
        with pytest.raises(RuleViolation) as refused:
            voucher_redeem(actor=clerk, voucher=voucher, amount=D("40"), order=target)
        assert refused.value.code == "voucher_exceeds_hold"
    assert _reload(voucher).balance == D("50.00") and voucher.transactions.count() == 1
    _order_reconciles(order)


# --- reverse ----------------------------------------------------------------------------------


def test_reversing_a_redemption_puts_the_money_back_once_and_reactivates(clerk, manager):
    voucher = make_voucher(amount="50.00")
    spent = voucher_redeem(actor=clerk, voucher=voucher, amount=D("50"))

    reversal = voucher_reverse(actor=manager, transaction=spent, reason="Till error")

    assert (reversal.kind, reversal.amount, reversal.balance_after, reversal.reverses) == (
        "reverse",
        D("50.00"),
        D("50.00"),
        spent,
    )
    assert _reload(voucher).status == VoucherStatus.ACTIVE
    assert StateTransition.objects.filter(subject_id=voucher.pk, transition="reactivate", reason="Till error").exists()
    with pytest.raises(Conflict) as again:
        voucher_reverse(actor=manager, transaction=spent, reason="again")
    assert again.value.code == "already_reversed"
    assert_ledger_holds(voucher)


def test_reversing_an_order_payment_gives_the_hold_back(clerk, manager):
    voucher = make_voucher(amount="50.00")
    order = _order_with_hold(voucher.customer)
    spent = voucher_redeem(actor=clerk, voucher=voucher, amount=D("40"), order=order)

    voucher_reverse(actor=manager, transaction=spent, reason="Paid by card instead")

    ledger = ledger_of(order)
    assert (ledger.hold, ledger.paid) == (D("300.00"), D("0.00"))
    _order_reconciles(order)
    assert_ledger_holds(voucher)
    assert _reload(voucher).balance == D("50.00")


def test_an_order_payment_refunded_meanwhile_cannot_be_reversed(clerk, manager):
    voucher = make_voucher(amount="50.00")
    order = _order_with_hold(voucher.customer)
    spent = voucher_redeem(actor=clerk, voucher=voucher, amount=D("40"), order=order)
    order_lines_cancel(actor=manager, order=order, lines=[(order.lines.get(), 1)], reason="out of stock")

    with pytest.raises(RuleViolation) as refused:
        voucher_reverse(actor=manager, transaction=spent, reason="too late")

    assert refused.value.code == "refund_exceeds_paid"
    assert _reload(voucher).balance == D("10.00")
    _order_reconciles(order)


@pytest.mark.parametrize("kind", ["issue", "reverse"])
def test_only_a_redemption_can_be_reversed(kind, clerk, manager):
    voucher = make_voucher()
    spent = voucher_redeem(actor=clerk, voucher=voucher, amount=D("5"))
    voucher_reverse(actor=manager, transaction=spent, reason="x")
    row = voucher.transactions.get(kind=kind)

    with pytest.raises(RuleViolation) as refused:
        voucher_reverse(actor=manager, transaction=row, reason="x")

    assert refused.value.code == "not_a_redemption"


def test_a_reversal_needs_a_reason_and_a_spendable_voucher(clerk, manager):
    voucher = make_voucher()
    spent = voucher_redeem(actor=clerk, voucher=voucher, amount=D("5"))
    with pytest.raises(RuleViolation) as no_reason:
        voucher_reverse(actor=manager, transaction=spent, reason="  ")
    voucher_void(actor=manager, voucher=voucher, reason="Fraud")
    with pytest.raises(Conflict) as void:
        voucher_reverse(actor=manager, transaction=spent, reason="x")

    assert no_reason.value.code == "reason_required"
    assert (void.value.code, void.value.extra["allowed"]) == ("voucher_not_active", [])
    assert_ledger_holds(voucher)


# --- void -------------------------------------------------------------------------------------


def test_void_takes_what_is_left_off_and_cannot_happen_twice(clerk, manager):
    voucher = make_voucher(amount="50.00")
    voucher_redeem(actor=clerk, voucher=voucher, amount=D("15"))

    voided = voucher_void(actor=manager, voucher=voucher, reason="Issued twice")

    assert (voided.status, voided.balance) == ("void", D("0.00"))
    row = voucher.transactions.order_by("id").last()
    assert (row.kind, row.amount, row.balance_after, row.note) == ("void", D("-35.00"), D("0.00"), "Issued twice")
    assert StateTransition.objects.filter(subject_id=voucher.pk, transition="void", actor=manager).exists()
    with pytest.raises(TransitionNotAllowed) as again:
        voucher_void(actor=manager, voucher=voucher, reason="again")
    assert again.value.extra["allowed"] == [] and "allowed: none" in again.value.detail
    assert_ledger_holds(voucher)


def test_an_exhausted_voucher_is_voided_without_a_ledger_row(clerk, manager):
    voucher = make_voucher(amount="10.00")
    voucher_redeem(actor=clerk, voucher=voucher, amount=D("10"))

    voucher_void(actor=manager, voucher=voucher, reason="Closed")

    assert _reload(voucher).status == "void"
    assert not voucher.transactions.filter(kind="void").exists()
    assert_ledger_holds(voucher)


def test_void_needs_a_reason():
    voucher = make_voucher()
    with pytest.raises(RuleViolation):
        voucher_void(actor=None, voucher=voucher, reason="")
    assert _reload(voucher).status == "active"


# --- the sweep --------------------------------------------------------------------------------


def _expiring_in(delta, **fields):
    voucher = make_voucher(**fields)
    Voucher.objects.filter(pk=voucher.pk).update(expires_at=timezone.now() + delta)
    return _reload(voucher)


def test_the_customer_is_reminded_once_before_expiry(settings):
    settings.VOUCHER_EXPIRY_REMINDER_DAYS = 14
    soon = _expiring_in(timedelta(days=13))
    later = _expiring_in(timedelta(days=15))
    spent = _expiring_in(timedelta(days=2))
    voucher_redeem(actor=None, voucher=spent, amount=spent.balance)

    assert vouchers_sweep()["reminded"] == 1
    assert vouchers_sweep()["reminded"] == 0

    assert _reload(soon).reminded_at is not None and _reload(later).reminded_at is None
    message = Notification.objects.get(event="voucher_expiring")
    assert message.customer == soon.customer and soon.code in message.body and "50.00 EUR" in message.body
    assert message.secrets == [soon.code]


def test_an_expired_voucher_loses_its_balance_and_the_customer_is_told(clerk):
    voucher = _expiring_in(timedelta(days=3))
    voucher_redeem(actor=clerk, voucher=voucher, amount=D("20"))
    Voucher.objects.filter(pk=voucher.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    assert vouchers_sweep() == {"reminded": 0, "expired": 1, "failed": 0}

    voucher = _reload(voucher)
    assert (voucher.status, voucher.balance) == ("expired", D("0.00"))
    row = voucher.transactions.order_by("id").last()
    assert (row.kind, row.amount, row.balance_after, row.actor) == ("expire", D("-30.00"), D("0.00"), None)
    assert StateTransition.objects.filter(subject_id=voucher.pk, transition="expire", actor=None).exists()
    message = Notification.objects.get(event="voucher_expired")
    assert "30.00 EUR" in message.body and message.secrets == [voucher.code]
    assert Touchpoint.objects.filter(kind="credit_voucher", summary__contains="expired").exists()
    assert_ledger_holds(voucher)
    assert vouchers_sweep()["expired"] == 0  # safe to run twice
    with pytest.raises(Conflict):
        voucher_redeem(actor=clerk, voucher=voucher, amount=D("1"))


def test_the_sweep_leaves_spent_and_void_vouchers_alone(clerk):
    spent = make_voucher(amount="5")
    voucher_redeem(actor=clerk, voucher=spent, amount=D("5"))
    void = make_voucher()
    voucher_void(actor=None, voucher=void, reason="x")
    Voucher.objects.update(expires_at=timezone.now() - timedelta(days=1))

    assert vouchers_sweep()["expired"] == 0
    assert set(Voucher.objects.values_list("status", flat=True)) == {"exhausted", "void"}


def test_the_sweep_works_in_batches(monkeypatch):
    monkeypatch.setattr("returns.services.vouchers.SWEEP_BATCH", 2)
    for _ in range(5):
        make_voucher()
    Voucher.objects.update(expires_at=timezone.now() - timedelta(minutes=1))

    assert voucher_sweep() == {"reminded": 0, "expired": 5, "failed": 0}  # the periodic task
    assert set(Voucher.objects.values_list("status", flat=True)) == {"expired"}
    assert VoucherTransaction.objects.filter(kind="expire").count() == 5


def test_a_voucher_the_sweep_cannot_expire_is_left_and_the_others_go_on(monkeypatch, caplog):
    from returns.services import vouchers as services

    broken, fine = make_voucher(), make_voucher()
    Voucher.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    real = services._append

    def failing(voucher, kind, amount, **kwargs):
        if voucher.pk == broken.pk:
            raise RuleViolation("boom")
        return real(voucher, kind, amount, **kwargs)

    monkeypatch.setattr(services, "_append", failing)

    assert vouchers_sweep() == {"reminded": 0, "expired": 1, "failed": 1}
    assert (_reload(broken).status, _reload(fine).status) == ("active", "expired")
    assert_ledger_holds(broken)
    assert str(broken.pk) in caplog.text


# --- the code ---------------------------------------------------------------------------------


def test_a_code_may_be_typed_in_lower_case_without_dashes():
    voucher = make_voucher()
    typed = voucher.code.replace("-", "").lower().replace("0", "o")

    assert voucher_by_code(typed) == voucher
    assert voucher_by_code(f"  {voucher.code}  ") == voucher
    assert voucher_by_code("ABCD") is None
    assert voucher_by_code("\x00" * 13) is None


# --- the ledger invariant ---------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_any_sequence_of_operations_keeps_the_balance_the_sum_of_the_ledger(seed, clerk, manager):
    rng = random.Random(seed)
    voucher = make_voucher(amount=str(rng.choice(["10.00", "37.45", "100.00"])))
    order = _order_with_hold(voucher.customer, total="80.00")
    redemptions = []
    for i in range(25):
        step = rng.choice(["redeem", "redeem", "redeem_order", "reverse", "void", "too_much"])
        current = _reload(voucher)
        try:
            if step in ("redeem", "redeem_order"):
                amount = D(rng.randint(1, 2000)) / 100
                target = order if step == "redeem_order" else None
                redemptions.append(voucher_redeem(actor=clerk, voucher=current, amount=amount, order=target))
            elif step == "too_much":
                voucher_redeem(actor=clerk, voucher=current, amount=current.balance + D("0.01"))
            elif step == "reverse" and redemptions:
                voucher_reverse(actor=manager, transaction=rng.choice(redemptions), reason="random")
            elif step == "void" and i > 15 and rng.random() < 0.3:  # late: void ends the sequence
                voucher_void(actor=manager, voucher=current, reason="random")
        except (RuleViolation, Conflict):
            pass
        assert_ledger_holds(voucher)
        _order_reconciles(order)
    for row in VoucherTransaction.objects.filter(kind=VoucherTransactionKind.REVERSE):
        assert row.amount == -row.reverses.amount
    assert redemptions, "the sequence spent something"
