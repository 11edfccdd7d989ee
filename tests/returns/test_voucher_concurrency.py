"""The concurrency proof on PostgreSQL: many simultaneous redemptions of one voucher, each on its
own database connection, never spend more than its balance, and afterwards the balance is still
the sum of its ledger. SQLite serialises every write, so there is nothing to prove there."""

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum

from core.errors import Conflict, RuleViolation
from orders.choices import ChargeKind
from orders.models import Charge
from orders.services.charges import ledger_of
from returns.choices import VoucherStatus
from returns.models import Voucher, VoucherTransaction
from returns.services.vouchers import voucher_redeem, voucher_reverse
from tests.factories import ProductFactory, make_order, make_voucher

THREADS = 24


def _run_at_once(work, count: int) -> tuple[list, list]:
    """`work(i)` in `count` threads released together, each on its own connection."""
    barrier = threading.Barrier(count)
    done, refused = [], []
    lock = threading.Lock()

    def run(i):
        try:
            barrier.wait()
            result = work(i)
            with lock:
                done.append(result)
        except (RuleViolation, Conflict) as exc:
            with lock:
                refused.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return done, refused


def _ledger_sum(voucher) -> Decimal:
    return VoucherTransaction.objects.filter(voucher=voucher).aggregate(total=Sum("amount"))["total"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_voucher_cannot_be_overspent_by_concurrent_redemptions():
    if connection.vendor != "postgresql":
        pytest.skip("real concurrent connections need PostgreSQL; SQLite serialises every write")
    voucher = make_voucher(amount="100.00")
    # 24 x 7.00 = 168.00 asked of 100.00: at most 14 can succeed
    done, refused = _run_at_once(lambda i: voucher_redeem(actor=None, voucher=voucher, amount=Decimal("7.00")), THREADS)

    voucher = Voucher.objects.get(pk=voucher.pk)
    spent = -sum((row.amount for row in done), Decimal("0"))
    assert len(done) == 14 and spent == Decimal("98.00")
    assert refused == ["insufficient_balance"] * (THREADS - 14)
    assert voucher.balance == Decimal("2.00") == _ledger_sum(voucher)
    balances = sorted(row.balance_after for row in done)
    assert balances == [Decimal("2.00") + 7 * i for i in range(14)]  # each saw the one before it


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_redemptions_on_orders_and_reversals_keep_both_ledgers_exact():
    if connection.vendor != "postgresql":
        pytest.skip("real concurrent connections need PostgreSQL; SQLite serialises every write")
    voucher = make_voucher(amount="60.00")
    orders = [make_order(customer=voucher.customer, lines=[(ProductFactory(), 1, "20.00")]) for _ in range(4)]
    first = voucher_redeem(actor=None, voucher=voucher, amount=Decimal("10.00"))

    def work(i):
        if i == 0:
            return voucher_reverse(actor=None, transaction=first, reason="concurrent reversal")
        if i == 1:
            return voucher_reverse(actor=None, transaction=first, reason="the same reversal again")
        return voucher_redeem(actor=None, voucher=voucher, amount=Decimal("5.00"), order=orders[i % len(orders)])

    done, refused = _run_at_once(work, THREADS)

    voucher = Voucher.objects.get(pk=voucher.pk)
    assert voucher.balance == _ledger_sum(voucher) >= 0
    assert VoucherTransaction.objects.filter(reverses=first).count() == 1
    assert "already_reversed" in refused
    redeemed = VoucherTransaction.objects.filter(voucher=voucher, kind="redeem", order__isnull=False)
    assert redeemed.count() == len([row for row in done if row.kind == "redeem"])
    for order in orders:
        ledger = ledger_of(order)
        assert ledger.past + ledger.pending == order.total and ledger.hold >= 0
        paid = Charge.objects.filter(order=order, kind=ChargeKind.VOUCHER_REDEMPTION).aggregate(t=Sum("amount"))["t"]
        assert (paid or 0) == -sum((row.amount for row in redeemed.filter(order=order)), Decimal("0"))
    if voucher.balance == 0:
        assert voucher.status == VoucherStatus.EXHAUSTED
