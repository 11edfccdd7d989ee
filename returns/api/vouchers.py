"""Credit vouchers. Staff (`vouchers`) list them, issue goodwill and referral vouchers, redeem
them at the till or on an order, void them and reverse redemptions, and look one up by the code
the customer shows. Customers (`me/vouchers`) see their own, with the code and the ledger.
Staff and the owner see the full code; messages in the outbox mask it for staff."""

from decimal import Decimal

import django_filters as filters
from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from core.api.base import StaffViewSetMixin, StrictSerializer
from core.api.pagination import CursorPagination
from core.api.views import IDEMPOTENCY_KEY, CustomerScopedMixin
from core.errors import RuleViolation
from core.models import Customer
from orders.models import Order
from returns import selectors_vouchers as selectors
from returns.choices import VoucherSource
from returns.models import Voucher, VoucherTransaction
from returns.services import vouchers as services

MAX_ID = 2**63 - 1
AMOUNT = {"max_digits": 12, "decimal_places": 2}
STAFF_SOURCES = [VoucherSource.GOODWILL, VoucherSource.REFERRAL]  # store credit for returns comes from returns

# --- output -----------------------------------------------------------------------------------


class VoucherCustomerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    name = serializers.CharField(source="full_name")


class VoucherPersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.SerializerMethodField()

    def get_name(self, user) -> str:
        return user.get_full_name() or user.email


class VoucherTransactionSerializer(serializers.ModelSerializer):
    order_number = serializers.CharField(source="order.number", read_only=True, allow_null=True, default=None)
    actor = VoucherPersonSerializer(read_only=True, allow_null=True)
    reversed_by = serializers.SerializerMethodField(help_text="The reversal of this redemption, if any")

    class Meta:
        model = VoucherTransaction
        fields = [
            "id",
            "voucher",
            "kind",
            "amount",
            "balance_after",
            "order",
            "order_number",
            "reference",
            "reverses",
            "reversed_by",
            "actor",
            "note",
            "created_at",
        ]

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_reversed_by(self, row):
        reversal = getattr(row, "reversal", None)  # a missing reverse one-to-one is an AttributeError
        return reversal.pk if reversal is not None else None


class VoucherSerializer(serializers.ModelSerializer):
    """A voucher in the staff list: its code masked but for the last four symbols (enough to tell
    two of a customer's vouchers apart). The full code is on the detail, for staff; a code is
    looked up only through the rate-limited `lookup/`, never by listing or searching."""

    code = serializers.SerializerMethodField(help_text="Masked but for the last four symbols")
    customer = VoucherCustomerSerializer(read_only=True)
    order_number = serializers.CharField(source="order.number", read_only=True, allow_null=True, default=None)
    return_number = serializers.CharField(source="return_request.number", read_only=True, allow_null=True, default=None)
    issued_by = VoucherPersonSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Voucher
        fields = [
            "id",
            "code",
            "customer",
            "currency",
            "initial_amount",
            "balance",
            "status",
            "source",
            "return_request",
            "return_number",
            "order",
            "order_number",
            "note",
            "issued_by",
            "created_at",
            "expires_at",
            "reminded_at",
        ]

    def get_code(self, voucher) -> str:
        return "••••-••••-•" + voucher.code[-4:]


class VoucherDetailSerializer(VoucherSerializer):
    """One voucher with its full code (staff redeem it at the till) and its ledger."""

    code = serializers.CharField(read_only=True)
    transactions = VoucherTransactionSerializer(many=True, read_only=True, help_text="The ledger, oldest first")

    class Meta(VoucherSerializer.Meta):
        fields = [*VoucherSerializer.Meta.fields, "transactions"]


class MyVoucherTransactionSerializer(serializers.ModelSerializer):
    order_number = serializers.CharField(source="order.number", read_only=True, allow_null=True, default=None)

    class Meta:
        model = VoucherTransaction
        fields = ["id", "kind", "amount", "balance_after", "order_number", "created_at"]


class MyVoucherSerializer(serializers.ModelSerializer):
    """The customer's own voucher: the code they spend, what is left, until when, and its ledger."""

    order_number = serializers.CharField(source="order.number", read_only=True, allow_null=True, default=None)
    transactions = MyVoucherTransactionSerializer(many=True, read_only=True)

    class Meta:
        model = Voucher
        fields = [
            "id",
            "code",
            "currency",
            "initial_amount",
            "balance",
            "status",
            "source",
            "order_number",
            "created_at",
            "expires_at",
            "transactions",
        ]


# --- input ------------------------------------------------------------------------------------


def _id_field(queryset, **kwargs):
    return serializers.PrimaryKeyRelatedField(
        queryset=queryset, pk_field=serializers.IntegerField(min_value=1, max_value=MAX_ID), **kwargs
    )


def _amount_field(help_text: str):
    return serializers.DecimalField(**AMOUNT, min_value=Decimal("0.01"), help_text=help_text)


class VoucherIssueSerializer(StrictSerializer):
    customer = _id_field(Customer.objects.all())
    amount = _amount_field("Up to your approval limit; above it, ask a manager")
    currency = serializers.RegexField(r"^[A-Z]{3}\Z", max_length=3, help_text="ISO 4217, e.g. EUR")
    source = serializers.ChoiceField(choices=STAFF_SOURCES, help_text="Store credit for returns comes with the return")
    order = _id_field(Order.objects.all(), required=False, allow_null=True, help_text="The order it makes up for")
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    expires_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="Default: the return policy's validity for the currency"
    )


class VoucherRedeemSerializer(StrictSerializer):
    amount = _amount_field("At most the balance; the rest stays usable")
    order = _id_field(Order.objects.all(), required=False, allow_null=True, help_text="The order it pays part of")
    reference = serializers.CharField(
        max_length=64, required=False, allow_blank=True, default="", help_text="The till's or web shop's reference"
    )


class VoucherVoidSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=300)


class VoucherReverseSerializer(StrictSerializer):
    transaction = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="The redemption to undo")
    reason = serializers.CharField(max_length=300)


class VoucherLookupSerializer(StrictSerializer):
    code = serializers.CharField(max_length=40, help_text="The voucher's code; case and dashes do not matter")


# --- views ------------------------------------------------------------------------------------


class VoucherFilter(filters.FilterSet):
    customer_number = filters.CharFilter(field_name="customer__number")

    class Meta:
        model = Voucher
        fields = ["customer", "status", "source", "currency", "order", "return_request"]


class VoucherPagination(CursorPagination):
    ordering = ("-created_at", "-id")


class VoucherTransactionPagination(CursorPagination):
    ordering = ("id",)


@extend_schema(parameters=[IDEMPOTENCY_KEY])
class VoucherViewSet(
    StaffViewSetMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Credit vouchers, newest first."""

    queryset = Voucher.objects.all()
    pagination_class = VoucherPagination
    filterset_class = VoucherFilter
    search_fields = ["=customer__number"]
    ordering_fields = []
    idempotency_required = ["create", "redeem", "void", "reverse"]  # they move money
    action_permissions = {
        "redeem": "returns.add_vouchertransaction",
        "void": "returns.change_voucher",
        "reverse": "returns.change_voucher",
        "lookup": "returns.view_voucher",
    }
    secret_lookup_actions = ("lookup",)

    def get_queryset(self):
        if self.action == "list":
            return self.restrict(selectors.voucher_list())
        return self.restrict(selectors.voucher_detail())

    def get_serializer_class(self):
        return VoucherSerializer if self.action == "list" else VoucherDetailSerializer

    def _detail(self, voucher, status_code=status.HTTP_200_OK) -> Response:
        voucher = selectors.voucher_detail().get(pk=voucher.pk)
        return Response(VoucherDetailSerializer(voucher).data, status=status_code)

    @extend_schema(request=VoucherIssueSerializer, responses={201: VoucherDetailSerializer})
    def create(self, request, *args, **kwargs):
        """Issue a goodwill or referral voucher; the customer is sent the code."""
        serializer = VoucherIssueSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        voucher = services.voucher_issue(actor=request.user, **serializer.validated_data)
        response = self._detail(voucher, status.HTTP_201_CREATED)
        response["Location"] = f"{request.path}{voucher.pk}/"
        return response

    @extend_schema(request=VoucherRedeemSerializer, responses=VoucherDetailSerializer)
    @action(detail=True, methods=["post"])
    def redeem(self, request, pk=None):
        """Spend part or all of the balance (Idempotency-Key required: a retry spends once)."""
        serializer = VoucherRedeemSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        voucher = self.get_object()
        services.voucher_redeem(actor=request.user, voucher=voucher, **serializer.validated_data)
        return self._detail(voucher)

    @extend_schema(request=VoucherVoidSerializer, responses=VoucherDetailSerializer)
    @action(detail=True, methods=["post"])
    def void(self, request, pk=None):
        """Cancel the voucher; what is left on it is taken off."""
        serializer = VoucherVoidSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        voucher = services.voucher_void(
            actor=request.user, voucher=self.get_object(), reason=serializer.validated_data["reason"]
        )
        return self._detail(voucher)

    @extend_schema(request=VoucherReverseSerializer, responses=VoucherDetailSerializer)
    @action(detail=True, methods=["post"])
    def reverse(self, request, pk=None):
        """Undo one redemption of this voucher (once); an order it paid gets its hold back."""
        serializer = VoucherReverseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        voucher = self.get_object()
        redemption = VoucherTransaction.objects.filter(
            voucher=voucher, pk=serializer.validated_data["transaction"]
        ).first()
        if redemption is None:
            raise RuleViolation("That is not a transaction of this voucher.", code="transaction_not_in_voucher")
        services.voucher_reverse(actor=request.user, transaction=redemption, reason=serializer.validated_data["reason"])
        return self._detail(voucher)

    @extend_schema(
        request=None,
        responses=VoucherTransactionSerializer(many=True),
        parameters=[],
    )
    @action(detail=True, methods=["get"], pagination_class=VoucherTransactionPagination, filterset_class=None)
    def transactions(self, request, pk=None):
        """The voucher's ledger, oldest first: each row with the balance after it."""
        voucher = self.get_object()
        page = self.paginate_queryset(selectors.voucher_transactions(voucher))
        return self.get_paginated_response(VoucherTransactionSerializer(page, many=True).data)

    @extend_schema(request=VoucherLookupSerializer, responses=VoucherDetailSerializer)
    @action(detail=False, methods=["post"])
    def lookup(self, request):
        """Find a voucher by the code the customer shows (rate limited; unknown codes: 404)."""
        serializer = VoucherLookupSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        voucher = services.voucher_by_code(serializer.validated_data["code"], self.get_queryset())
        if voucher is None:
            raise Http404("No voucher has that code.")
        return self._detail(voucher)


class MyVoucherPagination(CursorPagination):
    ordering = ("-created_at", "-id")


class MyVoucherViewSet(CustomerScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The signed-in customer's credit vouchers, newest first, with their codes and ledgers."""

    serializer_class = MyVoucherSerializer
    pagination_class = MyVoucherPagination
    filterset_fields = ["status"]
    search_fields = []
    ordering_fields = []

    def base_queryset(self):
        return selectors.customer_voucher_list()


urlpatterns = []


def register(router: SimpleRouter) -> None:
    router.register("vouchers", VoucherViewSet, basename="voucher")
    router.register("me/vouchers", MyVoucherViewSet, basename="my-voucher")
