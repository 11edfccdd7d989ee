"""Return requests and what became of each returned unit, the return policy as data, and credit
vouchers with their ledger.

Rows change through `returns.services` only; the models hold tables, constraints and indexes.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django_fsm import FSMField, transition
from simple_history.models import HistoricalRecords

from core.choices import Channel
from core.codes import readable_code
from core.models import CURRENCY_MAX_LENGTH, Category, Customer, Location, Product
from orders.models import Order, OrderLine
from returns.choices import (
    Disposition,
    ItemGrade,
    Resolution,
    ReturnMethod,
    ReturnReason,
    ReturnStatus,
    VoucherSource,
    VoucherStatus,
    VoucherTransactionKind,
)

MONEY = {"max_digits": 12, "decimal_places": 2}


# --- policy -----------------------------------------------------------------------------------


class ReturnPolicy(models.Model):
    """The retailer's return rules for one currency: when the rules approve a request by
    themselves, when a customer's history sends it to a person, and what store credit earns."""

    currency = models.CharField(max_length=CURRENCY_MAX_LENGTH, unique=True)
    auto_approve_limit = models.DecimalField(
        **MONEY,
        default=Decimal("100.00"),
        validators=[MinValueValidator(0)],
        help_text="Requests worth up to this much, with no flag, are approved without a person.",
    )
    return_rate_threshold = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("30.00"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="Percent of units bought that a customer returned (their own choice, not faults) "
        "above which their requests wait for a manager.",
    )
    return_rate_min_units = models.PositiveIntegerField(
        default=5, help_text="The rate only counts once the customer has received this many units."
    )
    return_rate_window_days = models.PositiveIntegerField(
        default=365, validators=[MinValueValidator(1)], help_text="How far back the return rate looks."
    )
    store_credit_bonus_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="Extra value on a credit voucher chosen instead of a refund (10 = 10% more).",
    )
    voucher_valid_days = models.PositiveIntegerField(
        default=365, validators=[MinValueValidator(1)], help_text="How long a credit voucher is valid."
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "return policies"
        ordering = ["currency"]
        constraints = [
            models.CheckConstraint(condition=Q(auto_approve_limit__gte=0), name="return_policy_limit_non_negative"),
            models.CheckConstraint(
                condition=Q(return_rate_threshold__gte=0, return_rate_threshold__lte=100),
                name="return_policy_rate_percent",
            ),
            models.CheckConstraint(
                condition=Q(store_credit_bonus_percent__gte=0, store_credit_bonus_percent__lte=100),
                name="return_policy_bonus_percent",
            ),
        ]

    def __str__(self):
        return f"Return policy ({self.currency})"


class ReturnRule(models.Model):
    """An exception to a product's own return terms, for one product or a whole category: a
    longer or shorter window, or final sale. A product's rule wins over its category's."""

    product = models.OneToOneField(Product, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    category = models.OneToOneField(Category, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    window_days = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Days from delivery; empty keeps the product's own window."
    )
    final_sale = models.BooleanField(default=False, help_text="Not returnable at all.")
    note = models.CharField(max_length=200, blank=True, help_text="Shown to the customer with a refusal.")
    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(product__isnull=False, category__isnull=True)
                | Q(product__isnull=True, category__isnull=False),
                name="return_rule_one_scope",
            )
        ]

    def __str__(self):
        scope = f"product {self.product_id}" if self.product_id else f"category {self.category_id}"
        return f"Return rule for {scope}"


# --- return requests --------------------------------------------------------------------------


def return_number() -> str:
    return readable_code("RMA", length=8)


class ReturnRequest(models.Model):
    """An RMA: lines of one delivered order coming back, how, and what the customer gets for them."""

    number = models.CharField(max_length=12, unique=True, default=return_number, editable=False)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+", db_index=False)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    status = FSMField(choices=ReturnStatus.choices, default=ReturnStatus.REQUESTED, protected=True)
    method = models.CharField(max_length=20, choices=ReturnMethod.choices)
    drop_off_location = models.ForeignKey(
        Location, on_delete=models.PROTECT, null=True, blank=True, related_name="+", help_text="For drop-offs"
    )
    drop_off_code = models.CharField(
        max_length=20,
        null=True,
        blank=True,
        unique=True,
        editable=False,
        help_text="Label-free drop-off: the code behind the customer's QR code; theirs alone.",
    )
    resolution = models.CharField(max_length=12, choices=Resolution.choices, default=Resolution.REFUND)
    currency = models.CharField(max_length=CURRENCY_MAX_LENGTH)
    value = models.DecimalField(**MONEY, help_text="What the requested units are worth")
    flags = models.JSONField(default=list, blank=True, help_text="Why it waits for a person (empty: rules approved)")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty on an approval by the rules",
    )
    decision_reason = models.CharField(max_length=500, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    received_location = models.ForeignKey(Location, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    inspected_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    refunded_amount = models.DecimalField(
        **MONEY, null=True, blank=True, help_text="Value given back: refunded, credited or carried to the exchange"
    )
    exchange_order = models.ForeignKey(
        Order, on_delete=models.PROTECT, null=True, blank=True, related_name="+", help_text="The replacement order"
    )
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["drop_off_code", "updated_at"])

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [
            ("approve_returnrequest", "Can approve or reject returns"),
            ("analytics_returnrequest", "Can see the returns analytics"),
        ]
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="return_customer_newest"),
            models.Index(
                fields=["created_at", "id"], name="return_awaiting_approval", condition=Q(status=ReturnStatus.REQUESTED)
            ),
            models.Index(fields=["created_at"], name="return_created"),
            models.Index(fields=["resolved_at"], name="return_resolved", condition=Q(resolved_at__isnull=False)),
        ]
        constraints = [models.CheckConstraint(condition=Q(value__gte=0), name="return_value_non_negative")]

    def __str__(self):
        return self.number

    @transition(field=status, source=ReturnStatus.REQUESTED, target=ReturnStatus.APPROVED)
    def approve(self, *, by, at, note=""):
        self.decided_by, self.decided_at, self.decision_reason = by, at, note

    @transition(field=status, source=ReturnStatus.REQUESTED, target=ReturnStatus.REJECTED)
    def reject(self, *, by, at, note):
        self.decided_by, self.decided_at, self.decision_reason = by, at, note

    @transition(field=status, source=[ReturnStatus.REQUESTED, ReturnStatus.APPROVED], target=ReturnStatus.CANCELLED)
    def cancel(self):
        pass

    @transition(field=status, source=ReturnStatus.APPROVED, target=ReturnStatus.RECEIVED)
    def receive(self, *, by, at, location):
        self.received_by, self.received_at, self.received_location = by, at, location

    @transition(field=status, source=ReturnStatus.RECEIVED, target=ReturnStatus.INSPECTED)
    def inspect(self, *, at):
        self.inspected_at = at

    @transition(field=status, source=ReturnStatus.INSPECTED, target=ReturnStatus.RESOLVED)
    def resolve(self, *, by, at, amount):
        self.resolved_by, self.resolved_at, self.refunded_amount = by, at, amount


class ReturnLine(models.Model):
    """Units of one order line coming back, why, and how many arrived."""

    return_request = models.ForeignKey(ReturnRequest, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(
        Product,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The order line's product, copied: the analytics group returns by product without "
        "reading the order lines",
    )
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    reason = models.CharField(max_length=20, choices=ReturnReason.choices)
    reason_detail = models.CharField(max_length=500, blank=True)
    value = models.DecimalField(**MONEY, help_text="What the requested units are worth")
    quantity_received = models.PositiveIntegerField(
        null=True, blank=True, help_text="Counted at receiving; may differ from the request"
    )
    exchange_product = models.ForeignKey(
        Product, on_delete=models.PROTECT, null=True, blank=True, related_name="+", help_text="Wanted instead"
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["return_request", "order_line"], name="return_line_unique"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="return_line_quantity_positive"),
            models.CheckConstraint(condition=Q(value__gte=0), name="return_line_value_non_negative"),
        ]

    def __str__(self):
        return f"{self.quantity} × line {self.order_line_id}"

    @property
    def discrepancy(self) -> int | None:
        """Units received minus units announced (negative: fewer came), once counted."""
        return None if self.quantity_received is None else self.quantity_received - self.quantity


class InspectedItem(models.Model):
    """Units of a return line graded alike and sent the same way, with what they recovered."""

    return_line = models.ForeignKey(ReturnLine, on_delete=models.CASCADE, related_name="inspections")
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    grade = models.CharField(max_length=10, choices=ItemGrade.choices)
    disposition = models.CharField(max_length=20, choices=Disposition.choices)
    recovered_value = models.DecimalField(
        **MONEY, default=Decimal("0.00"), help_text="What these units fetch (resale, vendor credit, scrap)"
    )
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="+", db_index=False)
    inspected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    inspected_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["inspected_at", "location"], name="inspected_item_period")]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="inspected_item_quantity_positive"),
            models.CheckConstraint(condition=Q(recovered_value__gte=0), name="inspected_item_value_non_negative"),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.get_disposition_display()}"


# --- credit vouchers --------------------------------------------------------------------------


class Voucher(models.Model):
    """Store credit: a code, a balance kept by its ledger of transactions, an expiry."""

    code = models.CharField(
        max_length=20,
        unique=True,
        editable=False,
        help_text="The secret the customer spends; shown to its owner and staff",
    )
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+", db_index=False)
    currency = models.CharField(max_length=CURRENCY_MAX_LENGTH)
    initial_amount = models.DecimalField(**MONEY)
    balance = models.DecimalField(**MONEY, help_text="The sum of the ledger, kept in the same transaction")
    status = FSMField(choices=VoucherStatus.choices, default=VoucherStatus.ACTIVE, protected=True)
    source = models.CharField(max_length=10, choices=VoucherSource.choices)
    return_request = models.ForeignKey(
        ReturnRequest, on_delete=models.PROTECT, null=True, blank=True, related_name="vouchers"
    )
    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, null=True, blank=True, related_name="+", help_text="The order it makes up for"
    )
    note = models.CharField(max_length=300, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    reminded_at = models.DateTimeField(null=True, blank=True, help_text="When the customer was told it will expire")
    history = HistoricalRecords(excluded_fields=["code"])

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="voucher_customer_newest"),
            models.Index(fields=["-created_at", "-id"], name="voucher_newest"),
            models.Index(fields=["expires_at"], name="voucher_active_expiry", condition=Q(status=VoucherStatus.ACTIVE)),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="voucher_balance_non_negative"),
            models.CheckConstraint(condition=Q(initial_amount__gt=0), name="voucher_initial_amount_positive"),
            models.CheckConstraint(condition=Q(balance__lte=F("initial_amount")), name="voucher_balance_within_issue"),
        ]

    def __str__(self):
        return f"Voucher {self.pk} ({self.balance} {self.currency}, {self.status})"

    @transition(field=status, source=VoucherStatus.ACTIVE, target=VoucherStatus.EXHAUSTED)
    def exhaust(self):
        pass

    @transition(field=status, source=VoucherStatus.EXHAUSTED, target=VoucherStatus.ACTIVE)
    def reactivate(self):
        pass

    @transition(field=status, source=VoucherStatus.ACTIVE, target=VoucherStatus.EXPIRED)
    def expire(self):
        pass

    @transition(field=status, source=[VoucherStatus.ACTIVE, VoucherStatus.EXHAUSTED], target=VoucherStatus.VOID)
    def void(self):
        pass


class VoucherTransaction(models.Model):
    """One entry of a voucher's ledger: append-only; the voucher's balance is their sum."""

    voucher = models.ForeignKey(Voucher, on_delete=models.PROTECT, related_name="transactions", db_index=False)
    kind = models.CharField(max_length=10, choices=VoucherTransactionKind.choices)
    amount = models.DecimalField(**MONEY, help_text="+ adds to the balance, - takes from it")
    balance_after = models.DecimalField(**MONEY)
    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, null=True, blank=True, related_name="+", help_text="Where it was spent"
    )
    reference = models.CharField(max_length=64, blank=True, help_text="The till's or web shop's reference")
    reverses = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversal",
        help_text="The redemption undone",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["voucher_id", "id"]
        indexes = [models.Index(fields=["voucher", "id"], name="voucher_transaction_ledger")]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="voucher_transaction_not_zero"),
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="voucher_transaction_balance_non_negative"),
        ]

    def __str__(self):
        return f"{self.kind} {self.amount} {self.voucher.currency if self.voucher_id else ''}".strip()
