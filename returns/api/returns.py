"""Returns. Staff (`returns`) request returns for customers, decide, receive, inspect and resolve
them, and managers read the analytics; customers (`me/returns`) start and follow their own, with
the drop-off code; `return-options` ranks the ways to send something back."""

import datetime as dt
from decimal import Decimal

from django.http import Http404
from django.urls import path
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from core.api.base import StaffViewSetMixin, StrictSerializer
from core.api.pagination import NewestFirstPagination
from core.api.views import IDEMPOTENCY_KEY, CustomerScopedMixin
from core.choices import Channel
from core.codes import secret_code_formatted
from core.models import Location, Product
from core.workflow import allowed_transitions, transition_history
from orders.api.fulfillment import IsStaffOrCustomer, coordinate_field
from orders.models import Order
from returns import selectors
from returns.choices import Disposition, ItemGrade, Resolution, ReturnMethod, ReturnReason, ReturnStatus
from returns.models import ReturnRequest
from returns.options import return_options
from returns.services import returns as services

MAX_ID = 2**63 - 1
MAX_LINES = services.MAX_LINES
MAX_UNITS = 100_000
MONEY = {"max_digits": 12, "decimal_places": 2}

# --- output -----------------------------------------------------------------------------------


class ReturnProductSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()


class ReturnPlaceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField()


class ReturnCustomerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    name = serializers.CharField(source="full_name")


class InspectedItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    quantity = serializers.IntegerField()
    grade = serializers.ChoiceField(choices=ItemGrade.choices)
    disposition = serializers.ChoiceField(choices=Disposition.choices)
    recovered_value = serializers.DecimalField(**MONEY)
    inspected_at = serializers.DateTimeField()


class MyReturnLineSerializer(serializers.Serializer):
    """A line as its customer sees it: what they sent and what arrived (not what it recovered)."""

    id = serializers.IntegerField()
    order_line = serializers.IntegerField(source="order_line_id")
    product = ReturnProductSerializer(source="order_line.product")
    quantity = serializers.IntegerField()
    reason = serializers.ChoiceField(choices=ReturnReason.choices)
    reason_detail = serializers.CharField()
    value = serializers.DecimalField(**MONEY)
    quantity_received = serializers.IntegerField(allow_null=True)
    discrepancy = serializers.IntegerField(allow_null=True, help_text="Received minus announced, once counted")
    exchange_product = ReturnProductSerializer(allow_null=True)


class ReturnLineSerializer(MyReturnLineSerializer):
    inspections = InspectedItemSerializer(many=True)


class ReturnSerializer(serializers.Serializer):
    """A return as staff see it in lists."""

    id = serializers.IntegerField()
    number = serializers.CharField()
    order = serializers.IntegerField(source="order_id")
    order_number = serializers.CharField(source="order.number")
    customer = ReturnCustomerSerializer()
    channel = serializers.CharField()
    status = serializers.ChoiceField(choices=ReturnStatus.choices)
    method = serializers.ChoiceField(choices=ReturnMethod.choices)
    drop_off_location = ReturnPlaceSerializer(allow_null=True)
    resolution = serializers.ChoiceField(choices=Resolution.choices)
    currency = serializers.CharField()
    value = serializers.DecimalField(**MONEY)
    flags = serializers.ListField(child=serializers.CharField(), help_text="Why it waits for a person")
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_reason = serializers.CharField()
    received_at = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    refunded_amount = serializers.DecimalField(**MONEY, allow_null=True)


class TransitionSerializer(serializers.Serializer):
    transition = serializers.CharField()
    from_state = serializers.CharField()
    to_state = serializers.CharField()
    actor = serializers.SerializerMethodField()
    reason = serializers.CharField()
    at = serializers.DateTimeField()

    def get_actor(self, row) -> str | None:
        return (row.actor.get_full_name() or row.actor.email) if row.actor_id else None


class ReturnDetailSerializer(ReturnSerializer):
    received_location = ReturnPlaceSerializer(allow_null=True)
    exchange_order_number = serializers.SerializerMethodField()
    lines = ReturnLineSerializer(many=True)
    allowed_transitions = serializers.SerializerMethodField()
    history = serializers.SerializerMethodField()

    def get_exchange_order_number(self, obj) -> str | None:
        return obj.exchange_order.number if obj.exchange_order_id else None

    def get_allowed_transitions(self, obj) -> list[str]:
        return allowed_transitions(obj)

    @extend_schema_field(TransitionSerializer(many=True))
    def get_history(self, obj):
        return TransitionSerializer(transition_history(obj), many=True).data


class MyReturnSerializer(serializers.Serializer):
    """The customer's own return: what, how to send it (with the label-free code), where it is."""

    id = serializers.IntegerField()
    number = serializers.CharField()
    order_number = serializers.CharField(source="order.number")
    status = serializers.ChoiceField(choices=ReturnStatus.choices)
    method = serializers.ChoiceField(choices=ReturnMethod.choices)
    drop_off_location = ReturnPlaceSerializer(allow_null=True)
    drop_off_code = serializers.SerializerMethodField(
        help_text="Show it (or its QR code) at the drop-off; only while the return is approved and on its way"
    )
    resolution = serializers.ChoiceField(choices=Resolution.choices)
    currency = serializers.CharField()
    value = serializers.DecimalField(**MONEY)
    decision_reason = serializers.CharField()
    lines = MyReturnLineSerializer(many=True)
    created_at = serializers.DateTimeField()
    received_at = serializers.DateTimeField(allow_null=True)
    resolved_at = serializers.DateTimeField(allow_null=True)
    refunded_amount = serializers.DecimalField(**MONEY, allow_null=True)

    def get_drop_off_code(self, obj) -> str | None:
        return obj.drop_off_code if obj.status == ReturnStatus.APPROVED else None


# --- input ------------------------------------------------------------------------------------


def _id(queryset, **kwargs):
    return serializers.PrimaryKeyRelatedField(
        queryset=queryset, pk_field=serializers.IntegerField(min_value=1, max_value=MAX_ID), **kwargs
    )


class ReturnLineInputSerializer(StrictSerializer):
    order_line = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_UNITS)
    reason = serializers.ChoiceField(choices=ReturnReason.choices)
    reason_detail = serializers.CharField(max_length=500, required=False, allow_blank=True)
    exchange_product = _id(Product.objects.all(), required=False, allow_null=True, help_text="For an exchange")


class MyReturnCreateSerializer(StrictSerializer):
    order = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    lines = serializers.ListField(child=ReturnLineInputSerializer(), min_length=1, max_length=MAX_LINES)
    method = serializers.ChoiceField(choices=ReturnMethod.choices)
    drop_off_location = _id(Location.objects.all(), required=False, allow_null=True)
    resolution = serializers.ChoiceField(choices=Resolution.choices, default=Resolution.REFUND)


class ReturnCreateSerializer(MyReturnCreateSerializer):
    channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.STORE)


class DecisionSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class RejectSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=500, help_text="Told to the customer")


class ReceiveLineSerializer(StrictSerializer):
    return_line = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    quantity_received = serializers.IntegerField(min_value=0, max_value=MAX_UNITS)


class ReceiveSerializer(StrictSerializer):
    location = _id(Location.objects.all())
    lines = serializers.ListField(
        child=ReceiveLineSerializer(),
        required=False,
        min_length=1,
        max_length=MAX_LINES,
        help_text="What arrived per line; omit when everything announced arrived. A line left out: none arrived.",
    )


class InspectItemSerializer(StrictSerializer):
    return_line = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_UNITS)
    grade = serializers.ChoiceField(choices=ItemGrade.choices)
    disposition = serializers.ChoiceField(choices=Disposition.choices)
    recovered_value = serializers.DecimalField(**MONEY, min_value=Decimal("0"), default=Decimal("0"))


class InspectSerializer(StrictSerializer):
    items = serializers.ListField(
        child=InspectItemSerializer(),
        max_length=MAX_LINES,
        help_text="Every unit that arrived, graded; empty when nothing arrived.",
    )


class EmptySerializer(StrictSerializer):
    pass


class DropOffLookupSerializer(StrictSerializer):
    code = serializers.CharField(
        max_length=40, help_text="The code behind the customer's QR code; case and dashes do not matter"
    )


class AnalyticsQuerySerializer(StrictSerializer):
    since = serializers.DateField(help_text="First day of the period (UTC)")
    until = serializers.DateField(help_text="Day after the period (UTC)")
    location = _id(Location.objects.all(), required=False)
    currency = serializers.RegexField(r"^[A-Z]{3}$", max_length=3, default="EUR")

    def validate(self, attrs):
        if attrs["until"] <= attrs["since"]:
            raise serializers.ValidationError({"until": "The period ends after it starts."})
        if (attrs["until"] - attrs["since"]).days > 3 * 366:
            raise serializers.ValidationError({"until": "At most three years at a time."})
        return attrs


class ProductRateSerializer(serializers.Serializer):
    product = serializers.IntegerField()
    sku = serializers.CharField()
    units = serializers.IntegerField(help_text="Units returned")
    units_sold = serializers.IntegerField()
    return_rate = serializers.DecimalField(max_digits=7, decimal_places=2, help_text="Percent")
    returns = serializers.IntegerField()
    value = serializers.DecimalField(**MONEY)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=ReturnReason.choices)
    units = serializers.IntegerField()
    value = serializers.DecimalField(**MONEY)


class SerialReturnerSerializer(serializers.Serializer):
    customer = serializers.IntegerField()
    number = serializers.CharField()
    returns = serializers.IntegerField()
    units = serializers.IntegerField()


class AnalyticsSerializer(serializers.Serializer):
    returns = serializers.IntegerField()
    units_sold = serializers.IntegerField()
    units_returned = serializers.IntegerField()
    return_rate = serializers.DecimalField(max_digits=7, decimal_places=2, help_text="Percent of units sold")
    value_refunded = serializers.DecimalField(**MONEY, help_text="Given back to the customers' payments")
    value_credited = serializers.DecimalField(**MONEY, help_text="Given back as store credit (before any bonus)")
    value_exchanged = serializers.DecimalField(**MONEY, help_text="Carried to exchanges' replacement orders")
    value_recovered = serializers.DecimalField(**MONEY)
    units_inspected = serializers.IntegerField()
    units_kept_from_landfill = serializers.IntegerField()
    landfill_diversion = serializers.DecimalField(max_digits=7, decimal_places=2, help_text="Percent")
    by_product = ProductRateSerializer(many=True)
    by_reason = ReasonSerializer(many=True)
    serial_returners = SerialReturnerSerializer(many=True)


# --- views ------------------------------------------------------------------------------------


@extend_schema(parameters=[IDEMPOTENCY_KEY])
class ReturnViewSet(
    StaffViewSetMixin,
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Return requests, newest first; `?status=requested` is the approval queue."""

    queryset = ReturnRequest.objects.all()
    pagination_class = NewestFirstPagination
    filterset_fields = ["status", "customer", "order", "method", "resolution"]
    search_fields = ["=number", "=order__number", "=customer__number"]
    ordering_fields = []
    idempotency_required = ["refund"]  # it moves money
    action_permissions = {
        "approve": "returns.approve_returnrequest",
        "reject": "returns.approve_returnrequest",
        "cancel": "returns.change_returnrequest",
        "receive": "returns.change_returnrequest",
        "inspect": "returns.change_returnrequest",
        "refund": "returns.change_returnrequest",
        "analytics": "returns.analytics_returnrequest",
        "lookup": "returns.view_returnrequest",
    }
    secret_lookup_actions = ("lookup",)

    def get_queryset(self):
        return self.restrict(selectors.return_list() if self.action == "list" else selectors.return_detail())

    def get_serializer_class(self):
        return ReturnSerializer if self.action == "list" else ReturnDetailSerializer

    def _detail(self, request_obj, status_code=status.HTTP_200_OK) -> Response:
        fresh = selectors.return_detail().get(pk=request_obj.pk)
        return Response(ReturnDetailSerializer(fresh).data, status=status_code)

    def _input(self, serializer_class):
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @extend_schema(request=ReturnCreateSerializer, responses={201: ReturnDetailSerializer})
    def create(self, request, *args, **kwargs):
        """Start a return for a customer; the policy refuses it (422, a reason per line) or accepts it."""
        data = self._input(ReturnCreateSerializer)
        order = _order_or_error(Order.objects.all(), data["order"])
        created = services.return_request_create(actor=request.user, order=order, **_create_kwargs(data))
        response = self._detail(created, status.HTTP_201_CREATED)
        response["Location"] = f"{request.path}{created.pk}/"
        return response

    @extend_schema(request=DecisionSerializer, responses=ReturnDetailSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve a request the rules held back (within your approval limit)."""
        data = self._input(DecisionSerializer)
        return self._detail(services.return_approve(actor=request.user, return_request=self.get_object(), **data))

    @extend_schema(request=RejectSerializer, responses=ReturnDetailSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Refuse a request; the customer is told the reason."""
        data = self._input(RejectSerializer)
        return self._detail(services.return_reject(actor=request.user, return_request=self.get_object(), **data))

    @extend_schema(request=DecisionSerializer, responses=ReturnDetailSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Call the return off before it arrives."""
        data = self._input(DecisionSerializer)
        return self._detail(services.return_cancel(actor=request.user, return_request=self.get_object(), **data))

    @extend_schema(request=ReceiveSerializer, responses=ReturnDetailSerializer)
    @action(detail=True, methods=["post"])
    def receive(self, request, pk=None):
        """Record what arrived at your location; differences from the request are kept."""
        data = self._input(ReceiveSerializer)
        return self._detail(services.return_receive(actor=request.user, return_request=self.get_object(), **data))

    @extend_schema(request=InspectSerializer, responses=ReturnDetailSerializer)
    @action(detail=True, methods=["post"])
    def inspect(self, request, pk=None):
        """Grade every unit that arrived and choose where it goes; restocked units go on the shelf."""
        data = self._input(InspectSerializer)
        return self._detail(services.return_inspect(actor=request.user, return_request=self.get_object(), **data))

    @extend_schema(request=EmptySerializer, responses=ReturnDetailSerializer)
    @action(detail=True, methods=["post"])
    def refund(self, request, pk=None):
        """Give the customer what they chose: refund, credit voucher or exchange (Idempotency-Key required)."""
        self._input(EmptySerializer)
        return self._detail(services.return_refund(actor=request.user, return_request=self.get_object()))

    @extend_schema(request=DropOffLookupSerializer, responses=ReturnDetailSerializer)
    @action(detail=False, methods=["post"])
    def lookup(self, request):
        """The approved return a label-free drop-off code belongs to, for the point or kiosk that
        takes the parcel (rate limited; an unknown code, or one no longer valid: 404)."""
        serializer = DropOffLookupSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        code = secret_code_formatted(serializer.validated_data["code"])
        found = self.get_queryset().filter(drop_off_code=code, status=ReturnStatus.APPROVED).first() if code else None
        if found is None:
            raise Http404("No return on its way has that code.")
        return self._detail(found)

    @extend_schema(parameters=[AnalyticsQuerySerializer], responses=AnalyticsSerializer)
    @action(detail=False, methods=["get"])
    def analytics(self, request):
        """Managers' figures for a period and location: return rates by product and reason, money
        refunded and recovered, units kept out of landfill, serial returners."""
        query = AnalyticsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        figures = selectors.returns_analytics(
            since=_midnight(data["since"]),
            until=_midnight(data["until"]),
            location=data.get("location"),
            currency=data["currency"],
        )
        return Response(AnalyticsSerializer(figures).data)


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def _order_or_error(queryset, order_id: int) -> Order:
    order = queryset.filter(pk=order_id).first()
    if order is None:
        raise serializers.ValidationError({"order": ["No such order."]})
    return order


def _create_kwargs(data: dict) -> dict:
    return {
        "lines": data["lines"],
        "method": data["method"],
        "drop_off_location": data.get("drop_off_location"),
        "resolution": data["resolution"],
        "channel": data.get("channel", Channel.APP),
    }


@extend_schema(parameters=[IDEMPOTENCY_KEY])
class MyReturnViewSet(CustomerScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The signed-in customer's returns, newest first: start one for a delivered order, follow it."""

    serializer_class = MyReturnSerializer
    pagination_class = NewestFirstPagination
    filterset_fields = ["status"]
    search_fields = []
    ordering_fields = []

    def base_queryset(self):
        return selectors.return_detail()

    def _detail(self, obj, status_code=status.HTTP_200_OK):
        return Response(MyReturnSerializer(self.get_queryset().get(pk=obj.pk)).data, status=status_code)

    @extend_schema(request=MyReturnCreateSerializer, responses={201: MyReturnSerializer})
    def create(self, request):
        """Start a return of your own delivered order; a refusal says why for each line (422)."""
        serializer = MyReturnCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        order = _order_or_error(Order.objects.filter(customer=self.customer), data["order"])
        created = services.return_request_create(actor=request.user, order=order, **_create_kwargs(data))
        response = self._detail(created, status.HTTP_201_CREATED)
        response["Location"] = f"{request.path}{created.pk}/"
        return response

    @extend_schema(request=DecisionSerializer, responses=MyReturnSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Call your return off before it is sent."""
        serializer = DecisionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        cancelled = services.return_cancel(
            actor=request.user, return_request=self.get_object(), **serializer.validated_data
        )
        return self._detail(cancelled)


class ReturnOptionsQuerySerializer(StrictSerializer):
    latitude = coordinate_field(90, help_text="Where the customer is: WGS 84 degrees, -90 to 90.")
    longitude = coordinate_field(180, help_text="Where the customer is: WGS 84 degrees, -180 to 180.")
    radius_km = serializers.DecimalField(
        max_digits=None, decimal_places=None, min_value=Decimal("0.1"), max_value=100, default=Decimal("25")
    )
    limit = serializers.IntegerField(min_value=1, max_value=20, default=5)


class ReturnOptionSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=ReturnMethod.choices)
    location = ReturnPlaceSerializer(allow_null=True, help_text="Where to drop it off; null for a label or collection")
    distance_km = serializers.FloatField(allow_null=True)
    label_free = serializers.BooleanField(help_text="Handed over with a QR code: nothing to print")
    co2_grams = serializers.IntegerField(help_text="Estimated grams of CO2 of the first mile, the trip included")


class ReturnOptionsView(APIView):
    permission_classes = [IsStaffOrCustomer]

    @extend_schema(parameters=[ReturnOptionsQuerySerializer], responses=ReturnOptionSerializer(many=True))
    def get(self, request):
        """Ways to send a return from here: nearby drop-offs (label-free first at equal cost),
        then a carrier label, then a carrier collection."""
        query = ReturnOptionsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(ReturnOptionSerializer(return_options(**query.validated_data), many=True).data)


urlpatterns = [path("return-options/", ReturnOptionsView.as_view(), name="return-options")]


def register(router: SimpleRouter) -> None:
    router.register("returns", ReturnViewSet, basename="return")
    router.register("me/returns", MyReturnViewSet, basename="my-return")
