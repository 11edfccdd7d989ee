"""Reads of credit vouchers for the API: staff lists and details with their ledger, and the
customer's own vouchers."""

from django.db.models import Prefetch, QuerySet

from returns.models import Voucher, VoucherTransaction


def _ledger() -> Prefetch:
    return Prefetch(
        "transactions",
        queryset=VoucherTransaction.objects.select_related("order", "actor", "reversal").order_by("id"),
    )


def voucher_list() -> QuerySet[Voucher]:
    """Vouchers as staff list them: one query per page whatever its size."""
    return Voucher.objects.select_related("customer", "order", "return_request", "issued_by")


def voucher_detail() -> QuerySet[Voucher]:
    return voucher_list().prefetch_related(_ledger())


def voucher_transactions(voucher: Voucher) -> QuerySet[VoucherTransaction]:
    return VoucherTransaction.objects.filter(voucher=voucher).select_related("order", "actor", "reversal")


def customer_voucher_list() -> QuerySet[Voucher]:
    """The customer's own vouchers, with their ledger (a voucher has a handful of rows)."""
    return Voucher.objects.select_related("order").prefetch_related(_ledger())
